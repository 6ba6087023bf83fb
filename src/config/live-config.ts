/**
 * The config file and the config the gateway runs with, together: writes go
 * through the writer, the keys that can change at once (reload-plan.ts) are
 * handed to `applyHot`, and the rest is reported as waiting for a restart.
 */

import { diffPaths, type ConfigChange, type ConfigFileSnapshot, type ConfigWriter, type ConfigWriteResult } from './config-writer.js';
import { HOT_CONFIG_PATHS, planReload, reloadKindOf, type ReloadPlan } from './reload-plan.js';
import type { PincerConfig } from './schema.js';

/** A write and what it means for the running gateway. */
export interface ConfigUpdate extends ConfigWriteResult {
  reload: ReloadPlan;
  /** Every path changed since start-up (by any write) that waits for a restart. */
  pendingRestartPaths: string[];
}

export interface LiveConfig {
  readonly path: string;
  /** The file now, validated, with its hash. */
  read(): Promise<ConfigFileSnapshot>;
  /** Write a change (see ConfigWriter.update for what it throws), then apply the hot keys. */
  update(change: ConfigChange): Promise<ConfigUpdate>;
  /** The config in force: start-up's, plus every hot change since. */
  running(): PincerConfig;
  /** Paths written since start-up that wait for a restart. */
  pendingRestartPaths(): string[];
}

export interface LiveConfigOptions {
  writer: ConfigWriter;
  /** The config the gateway started with. */
  initial: PincerConfig;
  /** Apply the changed hot keys of `next` to the running parts (logger level, prices). Must not throw. */
  applyHot(next: PincerConfig, hotPaths: readonly string[]): void;
}

/** Wrap a writer so each write also updates what is running, where that is safe. */
export function createLiveConfig(options: LiveConfigOptions): LiveConfig {
  const { writer, applyHot } = options;
  let running = options.initial;
  // The file's content when the gateway started (first seen by a write): restart paths are measured against it.
  let bootContent: unknown;
  let bootSeen = false;

  const pendingAgainst = (content: unknown): string[] =>
    bootSeen ? diffPaths(bootContent, content).filter((path) => reloadKindOf(path) === 'restart') : [];

  let pending: string[] = [];

  return {
    path: writer.path,
    read: () => writer.read(),
    running: () => running,
    pendingRestartPaths: () => [...pending],
    async update(change) {
      const result = await writer.update(change);
      if (!bootSeen) {
        bootContent = result.previous.parsed;
        bootSeen = true;
      }
      const reload = planReload(result.changedPaths);
      if (reload.hotPaths.length > 0) {
        running = withHotValues(running, result.next.config);
        applyHot(result.next.config, reload.hotPaths);
      }
      pending = pendingAgainst(result.next.parsed);
      return { ...result, reload, pendingRestartPaths: [...pending] };
    },
  };
}

/** `running` with every hot key taken from `next`. */
function withHotValues(running: PincerConfig, next: PincerConfig): PincerConfig {
  const out = structuredClone(running) as unknown as Record<string, unknown>;
  for (const path of HOT_CONFIG_PATHS) {
    const keys = path.split('.');
    const last = keys.pop()!;
    let source: unknown = next;
    let target: unknown = out;
    for (const key of keys) {
      source = isRecord(source) ? source[key] : undefined;
      target = isRecord(target) ? target[key] : undefined;
    }
    if (isRecord(target) && isRecord(source)) target[last] = structuredClone(source[last]);
  }
  return out as unknown as PincerConfig;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
