/**
 * Sends and edits one reply's messages: formatted as Telegram HTML, and sent
 * again as plain text when Telegram rejects the entities (a model's Markdown
 * is not always well-formed).
 */

import type { BotClient } from './bot-client.js';
import { TelegramApiError } from './bot-client.js';
import { markdownToTelegramHtml } from './telegram-html.js';

interface SentMessage {
  message_id: number;
}

/** Outcome counters, for tests and status. */
export interface SenderStats {
  plainTextFallbacks: number;
}

export interface MessageSender {
  /** Send `markdown` as a new message; resolves with its message id. */
  send(chatId: number, markdown: string, options?: { replyTo?: number; plain?: boolean }): Promise<number>;
  /** Replace the text of a message; an unchanged text is not an error. */
  edit(chatId: number, messageId: number, markdown: string, options?: { plain?: boolean }): Promise<void>;
  readonly stats: SenderStats;
}

export function createMessageSender(client: BotClient, onSent: () => void): MessageSender {
  const stats: SenderStats = { plainTextFallbacks: 0 };
  /** Try HTML, then plain text if Telegram cannot parse it. */
  const withFallback = async (markdown: string, plain: boolean | undefined, call: (fields: Record<string, unknown>) => Promise<void>): Promise<void> => {
    if (plain !== true) {
      try {
        await call({ text: markdownToTelegramHtml(markdown), parse_mode: 'HTML' });
        return;
      } catch (error) {
        if (!isEntityError(error)) throw error;
        stats.plainTextFallbacks++;
      }
    }
    await call({ text: markdown });
  };
  return {
    stats,
    async send(chatId, markdown, options = {}) {
      let id = 0;
      const reply = options.replyTo === undefined ? {} : { reply_parameters: { message_id: options.replyTo, allow_sending_without_reply: true } };
      await withFallback(markdown, options.plain, async (fields) => {
        const sent = await client.call<SentMessage>('sendMessage', { chat_id: chatId, ...fields, ...reply, link_preview_options: { is_disabled: true } });
        id = sent.message_id;
      });
      onSent();
      return id;
    },
    async edit(chatId, messageId, markdown, options = {}) {
      try {
        await withFallback(markdown, options.plain, async (fields) => {
          await client.call('editMessageText', { chat_id: chatId, message_id: messageId, ...fields, link_preview_options: { is_disabled: true } });
        });
        onSent();
      } catch (error) {
        if (error instanceof TelegramApiError && /message is not modified/i.test(error.description)) return;
        throw error;
      }
    },
  };
}

/** Telegram's answer to HTML it cannot parse. */
function isEntityError(error: unknown): boolean {
  return error instanceof TelegramApiError && error.code === 400 && /can't parse entities|unsupported start tag|can't find end tag|unexpected end tag/i.test(error.description);
}
