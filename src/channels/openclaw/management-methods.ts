/**
 * The management methods that read the host as a whole: logs.tail,
 * models.authStatus, system.info, system-presence, channels.status and the
 * extra health/status fields. Built here from the host so index.ts stays a
 * list of groups.
 */

import { randomUUID } from 'node:crypto';
import type { ChannelHost, ChannelStatus } from '../channel-host.js';
import { EventLoopMonitor } from '../../util/event-loop-stats.js';
import type { MethodTable } from './method-types.js';
import { createChannelsMethods, channelLabel } from './methods/channels.js';
import { createLogsMethods } from './methods/logs.js';
import { createModelsAuthMethods, type KeySource } from './methods/models.js';
import { createSystemInfoMethods, type PresenceClient } from './methods/system-info.js';
import { createSystemStatusExtras, type SystemStatusExtras } from './methods/system-status.js';

/** What a channel without its own status() reports: it started, so it runs. */
const RUNNING: ChannelStatus = { configured: true, running: true, lastError: null };

export interface ManagementMethods {
  methods: MethodTable;
  /** Extra health and status fields, for createSystemMethods. */
  systemExtras: SystemStatusExtras;
  /** Release the event-loop monitor (at close). */
  close(): void;
}

/** Build the management groups; `presence` reads the channel's clients once it exists. */
export function buildManagementMethods(host: ChannelHost, presence: () => PresenceClient[]): ManagementMethods {
  const eventLoop = new EventLoopMonitor();
  const readEventLoop = () => eventLoop.read();
  const channelStatuses = () =>
    host.channels().map((channel) => {
      let status: ChannelStatus;
      try {
        status = channel.status?.() ?? RUNNING;
      } catch (error) {
        status = { configured: true, running: false, lastError: error instanceof Error ? error.message : String(error) };
      }
      return { name: channel.name, status };
    });
  const running = () => host.configFile.running();
  const endpoints = () => {
    const provider = running().provider;
    return provider === undefined ? [] : [provider, ...provider.fallbacks];
  };
  const methods: MethodTable = {
    ...createLogsMethods({ logs: host.logs }),
    ...createModelsAuthMethods({ endpoints, keySource: (index) => keySourceOf(host, index) }),
    ...createSystemInfoMethods({
      version: host.version,
      port: host.port,
      startedAt: Date.now(),
      processInstanceId: randomUUID(),
      diskDir: host.config.stateDir,
      eventLoop: readEventLoop,
      presence,
    }),
    ...createChannelsMethods({ channelStatuses, eventLoop: readEventLoop }),
  };
  const systemExtras = createSystemStatusExtras({
    channelStatuses,
    channelLabel,
    heartbeatEveryMs: () => running().agent.heartbeat.everyMs,
    eventLoop: readEventLoop,
    modelDegraded: () => {
      const first = host.models.catalog.list()[0];
      return first !== undefined && host.models.cooldowns.remainingMs(first.cooldownKey) > 0;
    },
    pendingRestartPaths: () => host.configFile.pendingRestartPaths(),
  });
  return { methods, systemExtras, close: () => eventLoop.stop() };
}

/** "config" when the config file holds the key of endpoint `index` (chain order), else "env" (environment, flags or start options). */
async function keySourceOf(host: ChannelHost, index: number): Promise<KeySource> {
  const file = (await host.configFile.read()).parsed;
  const provider = isRecord(file) && isRecord(file.provider) ? file.provider : {};
  const fallbacks = Array.isArray(provider.fallbacks) ? provider.fallbacks : [];
  const own = index === 0 ? provider : fallbacks[index - 1];
  if (isRecord(own) && typeof own.apiKey === 'string') return 'config';
  // A fallback at the primary's endpoint without a key of its own uses the primary's.
  const running = host.configFile.running().provider;
  if (index > 0 && running !== undefined && running.fallbacks[index - 1]?.apiKey === running.apiKey && typeof provider.apiKey === 'string') return 'config';
  return 'env';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
