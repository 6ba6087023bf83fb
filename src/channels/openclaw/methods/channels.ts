/**
 * channels.status (docs/protocol.md §3.1): Pincer's own channels (this
 * WebSocket, the OpenAI-compatible API, the web chat, and any other that
 * reports a status) in OpenClaw's shape: one default account per channel.
 */

import * as v from 'valibot';
import type { ChannelStatus } from '../../channel-host.js';
import type { EventLoopStats } from '../../../util/event-loop-stats.js';
import type { MethodTable } from '../method-types.js';

/** The account id every Pincer channel reports (they have one account each). */
export const DEFAULT_ACCOUNT_ID = 'default';

/** Display names; a channel not listed shows its name. */
const CHANNEL_LABELS: Record<string, string> = {
  openclaw: 'OpenClaw WebSocket',
  'openai-http': 'OpenAI-compatible API',
  web: 'Web chat',
  telegram: 'Telegram',
};

/** The account a channel reports under (its own `accountId`, else the default). */
function accountOf(status: ChannelStatus): string {
  return typeof status.accountId === 'string' ? status.accountId : DEFAULT_ACCOUNT_ID;
}

/** The display name of a channel. */
export function channelLabel(name: string): string {
  return CHANNEL_LABELS[name] ?? name;
}

export interface ChannelsMethodDeps {
  /** Every started channel's status, in start order. */
  channelStatuses(): { name: string; status: ChannelStatus }[];
  eventLoop(): EventLoopStats;
  now?: () => number;
}

const StatusParams = v.object({
  probe: v.optional(v.boolean('probe: expected true or false')),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});

/** Build channels.status. */
export function createChannelsMethods(deps: ChannelsMethodDeps): MethodTable {
  const now = deps.now ?? Date.now;
  return {
    'channels.status': {
      params: StatusParams,
      scope: 'operator.read',
      handler() {
        const entries = deps.channelStatuses();
        const labelOf = channelLabel;
        return {
          ts: now(),
          channelOrder: entries.map((entry) => entry.name),
          channelLabels: Object.fromEntries(entries.map((entry) => [entry.name, labelOf(entry.name)])),
          channelDetailLabels: {},
          channelSystemImages: {},
          channelMeta: entries.map((entry) => ({ id: entry.name, label: labelOf(entry.name) })),
          eventLoop: deps.eventLoop(),
          channels: Object.fromEntries(entries.map((entry) => [entry.name, { ...entry.status }])),
          channelAccounts: Object.fromEntries(
            entries.map((entry) => [entry.name, [{ enabled: entry.status.configured, ...entry.status, accountId: accountOf(entry.status) }]]),
          ),
          channelDefaultAccountId: Object.fromEntries(entries.map((entry) => [entry.name, accountOf(entry.status)])),
          statusIssues: entries
            .filter((entry) => entry.status.lastError !== null)
            .map((entry) => ({ channel: entry.name, accountId: accountOf(entry.status), kind: 'runtime', message: entry.status.lastError })),
        };
      },
    },
  };
}
