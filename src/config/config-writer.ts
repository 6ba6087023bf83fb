/**
 * Changes the config file while the gateway runs (config.set / patch / apply,
 * agents.*): reads it with a content hash, applies a change, checks the result
 * with exactly the start-up rules, refuses a stale base hash, and replaces the
 * file atomically (0600). Writers in this process are serialised; a file
 * changed by hand between read and write is caught by the hash check.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { isErrnoException, PRIVATE_FILE_MODE, writeFileAtomic } from '../util/atomic-file.js';
import { ConfigError } from './config-error.js';
import type { PincerConfig } from './schema.js';

/** Hash of a config file that does not exist; differs from every file's hash, an empty one included. */
const MISSING_FILE_MARKER = 'pincer:no-config-file';

/** One problem with the config file, by dotted path (`''` for the whole file). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** The config file as it is on disk now. */
export interface ConfigFileSnapshot {
  path: string;
  exists: boolean;
  /** The file's text; null when it does not exist. */
  raw: string | null;
  /** SHA-256 (hex) of the file's bytes: the `baseHash` a writer must present (OpenClaw's semantics). */
  hash: string;
  /** The parsed JSON; `{}` for a missing file, undefined when the text is not JSON. */
  parsed: unknown;
  /** True when the content passes the start-up checks. */
  valid: boolean;
  issues: ConfigIssue[];
  /** The config this content resolves to (with env and flags layered on top), when valid. */
  config?: PincerConfig;
}

/** What a successful write changed. */
export interface ConfigWriteResult {
  previous: ConfigFileSnapshot;
  /** The file as written; always valid and with `config`. */
  next: ConfigFileSnapshot & { config: PincerConfig };
  /** Dotted paths whose value differs (an array counts as one value), sorted. */
  changedPaths: string[];
}

/** Why a write was refused before anything was written. */
export type ConfigConflictReason = 'stale-hash' | 'hash-required';

/** The file is not the one the caller read: nothing was written. Re-read and retry. */
export class ConfigConflictError extends Error {
  readonly reason: ConfigConflictReason;
  /** The file's hash now, to rebase against. */
  readonly currentHash: string;
  constructor(reason: ConfigConflictReason, currentHash: string) {
    super(
      reason === 'stale-hash'
        ? 'config changed since last load (baseHash is stale); re-run config.get and retry'
        : 'config base hash required; re-run config.get and pass its hash as baseHash',
    );
    this.name = 'ConfigConflictError';
    this.reason = reason;
    this.currentHash = currentHash;
  }
}

/**
 * One change: `apply` receives the current parsed content (a private copy,
 * `{}` for a missing file; undefined when the file is not JSON) and returns
 * the whole new content. It may throw (a ConfigError names the field) to
 * refuse; nothing is written then.
 */
export interface ConfigChange {
  /** The hash the caller read. Required when the file exists; a different current hash is refused. */
  baseHash?: string;
  apply(current: unknown, snapshot: ConfigFileSnapshot): unknown;
}

export interface ConfigWriter {
  readonly path: string;
  /** The file now, validated. */
  read(): Promise<ConfigFileSnapshot>;
  /**
   * Apply one change. Throws ConfigConflictError (stale or missing baseHash)
   * or ConfigError (the result fails the start-up checks; names the field),
   * leaving the file byte-identical; write failures are thrown as they are.
   */
  update(change: ConfigChange): Promise<ConfigWriteResult>;
}

export interface ConfigWriterOptions {
  /** Absolute path of the config file. */
  path: string;
  /**
   * Resolve candidate file content exactly as start-up does (loadConfig with
   * the same flags and environment and `fileContent`); throws ConfigError.
   */
  resolve(fileContent: unknown): PincerConfig;
}

/** SHA-256 hex of a config file's text; null (no file) has its own hash. */
export function hashConfigText(raw: string | null): string {
  return createHash('sha256')
    .update(raw ?? MISSING_FILE_MARKER)
    .digest('hex');
}

/** Create the writer for one config file. */
export function createConfigWriter(options: ConfigWriterOptions): ConfigWriter {
  const { path, resolve } = options;
  let tail: Promise<unknown> = Promise.resolve();

  const read = async (): Promise<ConfigFileSnapshot> => {
    let raw: string | null;
    try {
      raw = await readFile(path, 'utf8');
    } catch (error) {
      if (!isErrnoException(error) || error.code !== 'ENOENT') throw error;
      raw = null;
    }
    return inspect(path, raw, resolve);
  };

  const write = async (change: ConfigChange): Promise<ConfigWriteResult> => {
    const previous = await read();
    if (previous.exists && change.baseHash === undefined) throw new ConfigConflictError('hash-required', previous.hash);
    if (change.baseHash !== undefined && change.baseHash !== previous.hash) throw new ConfigConflictError('stale-hash', previous.hash);
    const content = change.apply(structuredClone(previous.parsed), previous);
    if (!isPlainObject(content)) throw new ConfigError('config must be a JSON object');
    // Throws ConfigError naming the field; nothing has been written yet.
    const config = resolve(content);
    const text = `${JSON.stringify(content, null, 2)}\n`;
    await writeFileAtomic(path, text, PRIVATE_FILE_MODE);
    const next = { ...inspectText(path, text), parsed: content, valid: true, issues: [], config };
    return { previous, next, changedPaths: diffPaths(previous.parsed, content) };
  };

  return {
    path,
    read,
    update(change) {
      // One writer at a time: each write reads the file the previous one left.
      const result = tail.then(() => write(change));
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

/** Dotted leaf paths whose values differ between two JSON values (a missing object counts as empty); arrays are compared whole. */
export function diffPaths(before: unknown, after: unknown, prefix = ''): string[] {
  const from = before === undefined ? {} : before;
  const to = after === undefined ? {} : after;
  if (isPlainObject(from) && isPlainObject(to) && (before !== undefined || after !== undefined)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    return keys.flatMap((key) => diffPaths(from[key], to[key], prefix === '' ? key : `${prefix}.${key}`));
  }
  if (isDeepStrictEqual(before, after)) return [];
  return [prefix];
}

function inspect(path: string, raw: string | null, resolve: (content: unknown) => PincerConfig): ConfigFileSnapshot {
  const base = inspectText(path, raw);
  let parsed: unknown = {};
  if (raw !== null) {
    if (raw.trim() === '') return { ...base, parsed: undefined, valid: false, issues: [{ path: '', message: 'the config file is empty' }] };
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return { ...base, parsed: undefined, valid: false, issues: [{ path: '', message: `not valid JSON: ${detail}` }] };
    }
  }
  try {
    return { ...base, parsed, valid: true, issues: [], config: resolve(parsed) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { ...base, parsed, valid: false, issues: [{ path: error.field ?? '', message: error.message }] };
  }
}

function inspectText(path: string, raw: string | null): Pick<ConfigFileSnapshot, 'path' | 'exists' | 'raw' | 'hash'> {
  return { path, exists: raw !== null, raw, hash: hashConfigText(raw) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
