/**
 * Which session a Telegram chat talks to: direct messages follow
 * `session.dmScope` (OpenClaw's key shapes), groups get their own session.
 */

import type { DmScope } from '../../config/telegram-config.js';

/** The account id of the one bot a gateway runs (OpenClaw's default account). */
export const DEFAULT_ACCOUNT_ID = 'default';

/** The canonical session key for a chat. */
export function sessionKeyFor(params: { agentId: string; dmScope: DmScope; chatType: string; chatId: string; senderId: string }): string {
  const { agentId, dmScope, chatType, chatId, senderId } = params;
  if (chatType !== 'private') return `agent:${agentId}:telegram:group:${chatId}`;
  switch (dmScope) {
    case 'main':
      return `agent:${agentId}:main`;
    case 'per-peer':
      return `agent:${agentId}:direct:${senderId}`;
    case 'per-channel-peer':
      return `agent:${agentId}:telegram:direct:${senderId}`;
    case 'per-account-channel-peer':
      return `agent:${agentId}:telegram:${DEFAULT_ACCOUNT_ID}:direct:${senderId}`;
  }
}
