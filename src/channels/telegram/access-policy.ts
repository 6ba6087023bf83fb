/**
 * Who may reach the agent (OpenClaw's dmPolicy / groupPolicy rules): a pure
 * decision per inbound message, so every rule has a fast test. Pairing
 * approvals widen direct messages only, never groups.
 */

import type { TelegramConfig } from '../../config/telegram-config.js';

export interface InboundSender {
  chatType: 'private' | 'group' | 'supergroup' | 'channel';
  chatId: string;
  senderId: string;
  /** The bot was @mentioned, or the message replies to one of the bot's. */
  addressed: boolean;
}

export type AccessDecision =
  | { kind: 'allow' }
  /** An unknown sender under dmPolicy pairing: reply with a code, pass nothing on. */
  | { kind: 'pair' }
  | { kind: 'ignore'; reason: string };

/** Decide what to do with a message; `isApproved` asks the pairing store. */
export function decideAccess(config: TelegramConfig, inbound: InboundSender, isApproved: (senderId: string) => boolean): AccessDecision {
  if (inbound.chatType === 'channel') return { kind: 'ignore', reason: 'channel posts are not handled' };
  if (inbound.chatType === 'private') return decideDirect(config, inbound.senderId, isApproved);
  return decideGroup(config, inbound);
}

function decideDirect(config: TelegramConfig, senderId: string, isApproved: (senderId: string) => boolean): AccessDecision {
  switch (config.dmPolicy) {
    case 'disabled':
      return { kind: 'ignore', reason: 'direct messages are disabled' };
    case 'open':
      return { kind: 'allow' };
    case 'allowlist':
      return listed(config.allowFrom, senderId) ? { kind: 'allow' } : { kind: 'ignore', reason: 'sender not in allowFrom' };
    case 'pairing':
      return listed(config.allowFrom, senderId) || isApproved(senderId) ? { kind: 'allow' } : { kind: 'pair' };
  }
}

function decideGroup(config: TelegramConfig, inbound: InboundSender): AccessDecision {
  const group = config.groups[inbound.chatId] ?? config.groups['*'];
  if (config.groupPolicy === 'disabled') return { kind: 'ignore', reason: 'groups are disabled' };
  const hasGroups = Object.keys(config.groups).length > 0;
  if (group === undefined && (hasGroups || config.groupPolicy !== 'open')) return { kind: 'ignore', reason: 'group not in channels.telegram.groups' };
  if (group !== undefined && !group.enabled) return { kind: 'ignore', reason: 'group disabled' };
  const policy = group?.groupPolicy ?? config.groupPolicy;
  if (policy === 'disabled') return { kind: 'ignore', reason: 'group disabled' };
  if (policy === 'allowlist') {
    const senders = group?.allowFrom ?? config.groupAllowFrom ?? config.allowFrom;
    if (!listed(senders, inbound.senderId)) return { kind: 'ignore', reason: 'sender not allowed in this group' };
  }
  if ((group?.requireMention ?? true) && !inbound.addressed) return { kind: 'ignore', reason: 'not mentioned' };
  return { kind: 'allow' };
}

function listed(list: readonly string[], senderId: string): boolean {
  return list.includes('*') || list.includes(senderId);
}
