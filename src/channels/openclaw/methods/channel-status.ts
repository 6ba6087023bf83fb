/**
 * channels.status (OpenClaw's shape): each messaging channel that reports its
 * health, as one summary and one default account. `probe` is accepted; the
 * channels report what they last saw rather than calling out.
 */

import * as v from 'valibot';
import type { StartedChannel } from '../../channel-host.js';
import type { MethodTable } from '../method-types.js';

export interface ChannelStatusDeps {
  /** The started channels (read at call time). */
  channels(): readonly StartedChannel[];
  now?: () => number;
}

const Params = v.object({ probe: v.optional(v.boolean()), timeoutMs: v.optional(v.number()) });
const LABELS: Record<string, string> = { telegram: 'Telegram' };

/** Build the channels.status entry. */
export function createChannelStatusMethods(deps: ChannelStatusDeps): MethodTable {
  const now = deps.now ?? Date.now;
  return {
    'channels.status': {
      params: Params,
      scope: 'operator.read',
      handler() {
        const reporting = deps.channels().filter((channel) => channel.status !== undefined);
        const channels: Record<string, unknown> = {};
        const accounts: Record<string, unknown[]> = {};
        const defaults: Record<string, string> = {};
        const issues: { channel: string; accountId: string; kind: string; message: string }[] = [];
        for (const channel of reporting) {
          const status = channel.status!();
          const accountId = typeof status.accountId === 'string' ? status.accountId : 'default';
          channels[channel.name] = status;
          accounts[channel.name] = [{ ...status, accountId, enabled: true }];
          defaults[channel.name] = accountId;
          if (status.lastError !== null) issues.push({ channel: channel.name, accountId, kind: 'runtime', message: status.lastError });
        }
        const names = reporting.map((channel) => channel.name);
        return {
          ts: now(),
          channelOrder: names,
          channelLabels: Object.fromEntries(names.map((name) => [name, LABELS[name] ?? name])),
          channelDetailLabels: {},
          channelSystemImages: {},
          channelMeta: names.map((name) => ({ id: name, label: LABELS[name] ?? name })),
          channels,
          channelAccounts: accounts,
          channelDefaultAccountId: defaults,
          statusIssues: issues,
        };
      },
    },
  };
}
