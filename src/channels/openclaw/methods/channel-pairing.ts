/**
 * channels.pairing.list and channels.pairing.approve: the operator's side of
 * DM pairing (OpenClaw's names and shapes). Requests come from every started
 * channel that offers pairing; approving a code lets that sender message the bot.
 */

import * as v from 'valibot';
import { GatewayError } from '../../../protocol/errors.js';
import type { PairingRequest, StartedChannel } from '../../channel-host.js';
import type { MethodTable } from '../method-types.js';

export interface PairingMethodDeps {
  /** The started channels (read at call time). */
  channels(): readonly StartedChannel[];
}

const ChannelName = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.minLength(1));
const ListParams = v.object({ channel: v.optional(ChannelName), accountId: v.optional(v.string()) });
const ApproveParams = v.object({
  channel: ChannelName,
  code: v.pipe(v.string(), v.trim(), v.regex(/^[A-Za-z0-9]{4,16}$/, 'expected the pairing code the sender was given')),
  accountId: v.optional(v.string()),
  notify: v.optional(v.boolean()),
});

/** Build the channels.pairing.* entries. */
export function createPairingMethods(deps: PairingMethodDeps): MethodTable {
  const pairingChannels = (): StartedChannel[] => deps.channels().filter((channel) => channel.pairing !== undefined);
  return {
    'channels.pairing.list': {
      params: ListParams,
      scope: 'operator.admin',
      async handler(params: v.InferOutput<typeof ListParams>) {
        const channels = pairingChannels().filter((channel) => params.channel === undefined || channel.name === params.channel);
        const requests: PairingRequest[] = [];
        for (const channel of channels) requests.push(...(await channel.pairing!.list()));
        const limits = channels[0]?.pairing?.limits ?? { pendingPerAccount: 3, ttlMs: 3_600_000 };
        return {
          accounts: channels.map((channel) => ({ channel: channel.name, accountId: 'default' })),
          requests: requests.filter((request) => params.accountId === undefined || request.accountId === params.accountId).sort((a, b) => a.createdAtMs - b.createdAtMs),
          commandOwnerConfigured: false,
          limits,
        };
      },
    },
    'channels.pairing.approve': {
      params: ApproveParams,
      scope: 'operator.admin',
      async handler(params: v.InferOutput<typeof ApproveParams>) {
        const channel = pairingChannels().find((candidate) => candidate.name === params.channel);
        if (channel === undefined) {
          const known = pairingChannels().map((candidate) => candidate.name);
          throw new GatewayError('INVALID_REQUEST', `channel ${params.channel} has no DM pairing${known.length === 0 ? ' (no channel with pairing is running)' : ` (channels with pairing: ${known.join(', ')})`}`);
        }
        const approved = await channel.pairing!.approve(params.code);
        if (approved === undefined) throw new GatewayError('INVALID_REQUEST', `no pending pairing request with code ${params.code.toUpperCase()} on ${params.channel} (it may have expired: codes last an hour)`);
        return { ok: true, channel: channel.name, accountId: approved.accountId, id: approved.id };
      },
    },
  };
}
