/**
 * The parts of health and status that OpenClaw's Control UI reads beyond the
 * basics in system.ts: channels, heartbeat, event loop, memory, model
 * runtime and config reload state. Built from what main.ts hands in.
 */

import type { ChannelStatus } from '../../channel-host.js';
import type { EventLoopStats } from '../../../util/event-loop-stats.js';
import { DEFAULT_AGENT_ID } from '../../../sessions/session-key.js';
import { processMemory } from './system-info.js';

const MS_PER_SECOND = 1000;

export interface SystemStatusDeps {
  channelStatuses(): { name: string; status: ChannelStatus }[];
  /** Display names of channels. */
  channelLabel(name: string): string;
  /** agent.heartbeat.everyMs in force (0: off). */
  heartbeatEveryMs(): number;
  eventLoop(): EventLoopStats;
  /** True while the primary model cools down after failures. */
  modelDegraded(): boolean;
  /** Config paths written since start-up that wait for a restart. */
  pendingRestartPaths(): string[];
}

/** Extra fields of `health` and `status`. */
export interface SystemStatusExtras {
  health(): Record<string, unknown>;
  status(): Record<string, unknown>;
}

/** Build the extra health and status fields. */
export function createSystemStatusExtras(deps: SystemStatusDeps): SystemStatusExtras {
  const heartbeat = () => {
    const everyMs = deps.heartbeatEveryMs();
    return { enabled: everyMs > 0, every: everyMs > 0 ? formatEvery(everyMs) : 'off', everyMs };
  };
  const modelRuntime = () => ({ degraded: deps.modelDegraded(), pendingAgents: [] });
  const configReload = () => {
    const pending = deps.pendingRestartPaths();
    // OpenClaw reloads what it can and restarts for the rest; Pincer applies the hot keys and waits for the operator.
    return { hotReloadStatus: pending.length === 0 ? 'active' : 'restart-required', pendingRestartPaths: pending };
  };
  return {
    health() {
      const channels = deps.channelStatuses();
      return {
        channels: Object.fromEntries(channels.map((entry) => [entry.name, { ...entry.status }])),
        channelOrder: channels.map((entry) => entry.name),
        channelLabels: Object.fromEntries(channels.map((entry) => [entry.name, deps.channelLabel(entry.name)])),
        heartbeatSeconds: Math.round(deps.heartbeatEveryMs() / MS_PER_SECOND),
        // Pincer has no plugins; the empty lists say so in OpenClaw's shape.
        plugins: { loaded: [], errors: [], unavailable: [] },
        configReload: configReload(),
        modelRuntime: modelRuntime(),
        eventLoop: deps.eventLoop(),
      };
    },
    status() {
      return {
        heartbeat: { defaultAgentId: DEFAULT_AGENT_ID, agents: [{ agentId: DEFAULT_AGENT_ID, ...heartbeat() }] },
        channelSummary: deps.channelStatuses().map((entry) => `${deps.channelLabel(entry.name)}: ${entry.status.running ? 'running' : entry.status.configured ? 'stopped' : 'off'}`),
        queuedSystemEvents: [],
        // No plugins and no secret owners that could degrade; no task ledger (scheduled jobs are in cron.*).
        degradedPlugins: [],
        degradedSecretOwners: [],
        tasks: { total: 0, active: 0, terminal: 0, failures: 0, byStatus: {}, byRuntime: {} },
        pid: process.pid,
        configReload: configReload(),
        modelRuntime: modelRuntime(),
        eventLoop: deps.eventLoop(),
        processMemory: processMemory(process.memoryUsage()),
      };
    },
  };
}

/** 1800000 → "30m", 3600000 → "1h", 45000 → "45s". */
export function formatEvery(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
