/**
 * One inbound update, from receipt to acknowledgement: skip it if already
 * handled, apply the access rules (pairing codes, allowlists, group mentions),
 * run a command, or store the turn and record the reply owed. It resolves
 * only once all of that is on disk, so the caller may then acknowledge the
 * update to Telegram; the reply itself streams on afterwards.
 */

import type { Message, Update } from 'grammy/types';
import type { Assistant } from '../../assistant/types.js';
import type { DmScope, TelegramConfig } from '../../config/telegram-config.js';
import type { Logger } from '../../util/logger.js';
import { decideAccess, type InboundSender } from './access-policy.js';
import type { BotClient } from './bot-client.js';
import { parseCommand, runCommand } from './chat-commands.js';
import type { IngressLedger, OwedReply } from './ingress-ledger.js';
import type { MessageSender } from './message-sender.js';
import type { PairingStore } from './pairing-store.js';
import { downloadPhoto } from './photo-input.js';
import { sessionKeyFor } from './session-routing.js';

export interface BotIdentity {
  id: number;
  username: string;
}

export interface UpdateHandlerDeps {
  config: TelegramConfig;
  dmScope: DmScope;
  agentId: string;
  assistant: Assistant;
  client: BotClient;
  sender: MessageSender;
  ledger: IngressLedger;
  pairing: PairingStore;
  bot(): BotIdentity | undefined;
  /** The configured model, for /status. */
  model: string;
  logger: Logger;
  /** A turn was stored: follow its run and deliver the reply. */
  startReply(owed: OwedReply, live: boolean): void;
  onInbound(): void;
}

/** Kinds of media the channel cannot pass to the model yet. */
const UNSUPPORTED_MEDIA = ['document', 'voice', 'audio', 'video', 'video_note', 'sticker', 'animation', 'location', 'venue', 'contact', 'poll', 'dice'] as const;

/** Handle `update`; rejects only when it must be retried (the turn could not be stored). */
export async function handleUpdate(deps: UpdateHandlerDeps, update: Update): Promise<void> {
  const { ledger } = deps;
  if (ledger.seen(update.update_id)) return;
  const message = update.message;
  if (message === undefined || message.from === undefined || message.from.is_bot) return ledger.accept(update.update_id);
  deps.onInbound();
  const bot = deps.bot();
  const chatType = message.chat.type;
  const senderId = String(message.from.id);
  const rawText = message.text ?? message.caption ?? '';
  const inbound: InboundSender = { chatType, chatId: String(message.chat.id), senderId, addressed: chatType === 'private' || isAddressed(message, rawText, bot) };
  const decision = decideAccess(deps.config, inbound, (id) => deps.pairing.isApproved(id));
  if (decision.kind === 'ignore') {
    deps.logger.debug('telegram message ignored', { reason: decision.reason, chatId: message.chat.id, senderId });
    return ledger.accept(update.update_id);
  }
  if (decision.kind === 'pair') {
    const result = await deps.pairing.request(senderId, senderMeta(message));
    await ledger.accept(update.update_id);
    if (result.kind === 'created') {
      deps.logger.info('telegram pairing request', { senderUserId: senderId, code: result.code });
      await notify(deps, message.chat.id, pairingText(senderId, result.code));
    }
    return;
  }
  const sessionKey = sessionKeyFor({ agentId: deps.agentId, dmScope: deps.dmScope, chatType, chatId: String(message.chat.id), senderId });
  const text = stripMention(rawText, bot).trim();
  const replyTo = chatType === 'private' ? undefined : message.message_id;
  const command = message.text === undefined ? undefined : parseCommand(text, bot?.username);
  if (command !== undefined) {
    const answer = await runCommand(command, { assistant: deps.assistant, sessionKey, model: deps.model });
    await ledger.accept(update.update_id);
    if (answer !== undefined) await notify(deps, message.chat.id, answer, replyTo);
    return;
  }
  const unsupported = UNSUPPORTED_MEDIA.find((kind) => message[kind] !== undefined);
  if (unsupported !== undefined) {
    await ledger.accept(update.update_id);
    await notify(deps, message.chat.id, `Sorry, ${unsupported.replace('_', ' ')} messages are not supported yet. Send text or a photo.`, replyTo);
    return;
  }
  let images: { mediaType: string; data: string }[] | undefined;
  if (message.photo !== undefined) {
    try {
      images = [await downloadPhoto(deps.client, message.photo, deps.config.mediaMaxBytes)];
    } catch (error) {
      await ledger.accept(update.update_id);
      await notify(deps, message.chat.id, `Could not read the photo: ${error instanceof Error ? error.message : String(error)}`, replyTo);
      return;
    }
  }
  if (text === '' && images === undefined) return ledger.accept(update.update_id);
  const runId = `telegram-${bot?.id ?? 'bot'}-${update.update_id}`;
  const turnText = chatType === 'private' ? text : `${displayName(message)}: ${text}`;
  let live: boolean;
  try {
    const result = await deps.assistant.send({ sessionKey, text: turnText, ...(images === undefined ? {} : { images }), idempotencyKey: runId });
    live = result.status === 'started' || result.status === 'in_flight';
  } catch (error) {
    if (isRetryable(error)) throw error;
    await ledger.accept(update.update_id);
    await notify(deps, message.chat.id, `⚠️ ${error instanceof Error ? error.message : String(error)}`, replyTo);
    return;
  }
  const owed: OwedReply = { updateId: update.update_id, runId, sessionKey, chatId: message.chat.id, messageIds: [], ...(replyTo === undefined ? {} : { replyTo }) };
  const known = ledger.owed().find((entry) => entry.runId === runId);
  await ledger.accept(update.update_id, owed);
  deps.startReply(known ?? owed, live);
}

/** A message for the chat that answers no run (codes, commands, notices); failures are logged. */
async function notify(deps: UpdateHandlerDeps, chatId: number, text: string, replyTo?: number): Promise<void> {
  try {
    await deps.sender.send(chatId, text, { replyTo, plain: true });
  } catch (error) {
    deps.logger.warn('telegram notice failed', { err: error, chatId });
  }
}

/** Mentioned by @username (entity or text), or a reply to one of the bot's messages. */
function isAddressed(message: Message, text: string, bot: BotIdentity | undefined): boolean {
  if (bot === undefined) return false;
  if (message.reply_to_message?.from?.id === bot.id) return true;
  const entities = message.entities ?? message.caption_entities ?? [];
  for (const entity of entities) {
    if (entity.type === 'text_mention' && entity.user.id === bot.id) return true;
    if (entity.type === 'mention' && text.slice(entity.offset, entity.offset + entity.length).toLowerCase() === `@${bot.username.toLowerCase()}`) return true;
  }
  return new RegExp(`(^|\\s)@${bot.username}\\b`, 'i').test(text);
}

function stripMention(text: string, bot: BotIdentity | undefined): string {
  if (bot === undefined) return text;
  return text.replace(new RegExp(`(^|\\s)@${bot.username}\\b`, 'gi'), '$1');
}

function displayName(message: Message): string {
  const from = message.from;
  if (from === undefined) return 'someone';
  return [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username || String(from.id);
}

function senderMeta(message: Message): Record<string, string> {
  const meta: Record<string, string> = {};
  if (message.from?.username !== undefined) meta.username = message.from.username;
  if (message.from?.first_name !== undefined) meta.firstName = message.from.first_name;
  if (message.from?.last_name !== undefined) meta.lastName = message.from.last_name;
  return meta;
}

function pairingText(senderId: string, code: string): string {
  return [
    'This assistant is private. To ask the owner for access, send them this code:',
    '',
    code,
    '',
    `Your Telegram user id: ${senderId}`,
    `(they approve it with: pincer pairing approve telegram ${code})`,
  ].join('\n');
}

/** Errors that mean "try this update again later" (draining, storage trouble), not "the message is bad". */
function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}
