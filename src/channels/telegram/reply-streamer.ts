/**
 * Streams one run's reply into a Telegram chat: a typing indicator while the
 * run works, one preview message edited at most once per EDIT_INTERVAL_MS as
 * text arrives (streaming `partial`), then a final edit with the whole reply
 * in HTML, split into further messages past the chunk limit. Every message
 * id is recorded in the ledger before the next step, so a reply resumed after
 * a restart edits what was sent instead of sending it again.
 */

import type { RunEvent } from '../../agent/types.js';
import type { Assistant } from '../../assistant/types.js';
import type { Logger } from '../../util/logger.js';
import { chunkText } from './chunk-text.js';
import type { IngressLedger, OwedReply } from './ingress-ledger.js';
import type { BotClient } from './bot-client.js';
import type { MessageSender } from './message-sender.js';

/** Least time between two edits of the preview (Telegram allows about one per second per chat), ms. */
export const EDIT_INTERVAL_MS = 1_000;
/** Telegram shows "typing…" for about 5 s; renew it this often while the run works, ms. */
export const TYPING_INTERVAL_MS = 4_000;
/** The note that ends a reply cut short by a restart. */
export const RESTART_NOTE = '⚠️ The gateway restarted before this reply was finished. Send your message again for a full answer.';

export interface ReplyDeps {
  assistant: Assistant;
  client: BotClient;
  sender: MessageSender;
  ledger: IngressLedger;
  logger: Logger;
  streaming: 'partial' | 'off';
  textChunkLimit: number;
}

/**
 * Follow run `owed.runId` to its end and deliver the reply once. Resolves
 * when the reply is delivered (or given up on); never rejects.
 */
export function streamReply(deps: ReplyDeps, owed: OwedReply, options: { live: boolean }): Promise<void> {
  const state = { messageIds: [...owed.messageIds], preview: '', shown: '', lastEditAt: 0 };
  let typingTimer: NodeJS.Timeout | undefined;
  let editTimer: NodeJS.Timeout | undefined;
  let editing: Promise<void> = Promise.resolve();
  let ended = false;
  const chatId = owed.chatId;
  const limit = deps.textChunkLimit;

  const sendTyping = (): void => {
    deps.client.call('sendChatAction', { chat_id: chatId, action: 'typing' }, { attempts: 1 }).catch(() => undefined);
  };
  const record = (): Promise<void> => deps.ledger.recordMessages(owed.runId, state.messageIds);

  /** Show `state.preview` now (plain text: partial Markdown would not parse). */
  const flushPreview = (): void => {
    editTimer = undefined;
    editing = editing.then(async () => {
      if (ended || state.preview === state.shown) return;
      const text = state.preview.length > limit ? `${state.preview.slice(0, limit - 1)}…` : state.preview;
      state.lastEditAt = Date.now();
      try {
        if (state.messageIds.length === 0) {
          state.messageIds.push(await deps.sender.send(chatId, text, { replyTo: owed.replyTo, plain: true }));
          await record();
        } else await deps.sender.edit(chatId, state.messageIds[0], text, { plain: true });
        state.shown = state.preview;
      } catch (error) {
        deps.logger.warn('telegram preview update failed', { err: error, runId: owed.runId });
      }
    });
  };
  const schedulePreview = (): void => {
    if (editTimer !== undefined || ended) return;
    editTimer = setTimeout(flushPreview, Math.max(0, state.lastEditAt + EDIT_INTERVAL_MS - Date.now()));
  };

  const finish = async (text: string): Promise<void> => {
    ended = true;
    clearInterval(typingTimer);
    clearTimeout(editTimer);
    await editing;
    const parts = chunkText(text, limit);
    if (parts.length === 0) parts.push('(no reply)');
    for (let i = 0; i < parts.length; i++) {
      const existing = state.messageIds[i];
      try {
        if (existing !== undefined) await deps.sender.edit(chatId, existing, parts[i]);
        else {
          state.messageIds.push(await deps.sender.send(chatId, parts[i], { replyTo: i === 0 ? owed.replyTo : undefined }));
          await record();
        }
      } catch (error) {
        deps.logger.warn('telegram reply delivery failed', { err: error, runId: owed.runId, part: i + 1 });
        break;
      }
    }
    await deps.ledger.settle(owed.runId);
  };

  return new Promise<void>((resolve) => {
    const done = (text: string): void => {
      subscription?.unsubscribe();
      finish(text).then(resolve, (error: unknown) => {
        deps.logger.warn('telegram reply failed', { err: error, runId: owed.runId });
        resolve();
      });
    };
    const onEvent = (event: RunEvent): void => {
      if (ended) return;
      if (event.type === 'text.delta' && deps.streaming === 'partial') {
        state.preview = event.reply.text;
        schedulePreview();
      } else if (event.type === 'run.end') {
        done(finalText(event.status, event.text, event.error));
      }
    };
    let subscription: { unsubscribe(): void } | undefined;
    const record = options.live ? deps.assistant.run(owed.runId) : undefined;
    if (record !== undefined && record.status === 'running') {
      subscription = deps.assistant.watchRun(owed.runId, onEvent, { onLost: () => void waitAndFinish() });
      sendTyping();
      typingTimer = setInterval(sendTyping, TYPING_INTERVAL_MS);
      typingTimer.unref();
      // The run may have ended between the check and the subscription.
      const again = deps.assistant.run(owed.runId);
      if (again !== undefined && again.status !== 'running') done(finalText(again.status, again.text ?? '', again.error, again.stopReason));
      return;
    }
    void waitAndFinish();

    /** The run is not live here (it ended, or a restart cut it): deliver from its record. */
    async function waitAndFinish(): Promise<void> {
      subscription?.unsubscribe();
      const ended = await deps.assistant.wait(owed.runId, 0);
      if (ended === undefined) return done(RESTART_NOTE);
      if (ended.status === 'running') {
        const final = await deps.assistant.wait(owed.runId, 24 * 60 * 60 * 1000);
        return done(finalText(final?.status ?? 'error', final?.text ?? '', final?.error, final?.stopReason));
      }
      done(finalText(ended.status, ended.text ?? '', ended.error, ended.stopReason));
    }
  });
}

/** What the chat sees at the end of a run. */
function finalText(status: string, text: string, error?: string, stopReason?: string): string {
  if (stopReason === 'interrupted') return text.trim() === '' || text.startsWith('[interrupted') ? RESTART_NOTE : `${text}\n\n${RESTART_NOTE}`;
  if (status === 'ok') return text;
  if (status === 'aborted') return text.trim() === '' ? '⏹ Stopped.' : `${text}\n\n⏹ Stopped.`;
  const reason = error ?? 'the run failed';
  return text.trim() === '' ? `⚠️ ${reason}` : `${text}\n\n⚠️ ${reason}`;
}
