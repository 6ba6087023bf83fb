/**
 * Long polling: getUpdates from the persisted offset, each update handled
 * (and its offset persisted) before the next is asked for, so a restart at
 * any point resumes at the first update not yet handled. Failures back off
 * and resume; a revoked token (401) stops the loop with the error in status.
 */

import type { Update } from 'grammy/types';
import { abortableSleep } from '../../providers/abortable-sleep.js';
import { TelegramApiError, type BotClient } from './bot-client.js';

/** How long one getUpdates may wait for an update, s (Telegram's long-poll timeout). */
export const POLL_TIMEOUT_S = 25;
/** Back-off after a failed poll: first, then doubled up to the max, ms. */
export const POLL_BACKOFF_START_MS = 1_000;
export const POLL_BACKOFF_MAX_MS = 30_000;

export interface PollerDeps {
  client: BotClient;
  /** Where to resume: the ledger's offset. */
  offset(): number | null;
  /** Handle one update; resolves once it may be acknowledged. */
  handle(update: Update): Promise<void>;
  onError(error: unknown, fatal: boolean): void;
  onPoll(): void;
  pollTimeoutS?: number;
}

export interface Poller {
  /** Stop asking for updates; resolves when the loop has ended (the update in hand is finished first). */
  stop(): Promise<void>;
}

/** Start the loop. */
export function startPoller(deps: PollerDeps): Poller {
  const controller = new AbortController();
  const { signal } = controller;
  const loop = (async () => {
    let backoffMs = POLL_BACKOFF_START_MS;
    while (!signal.aborted) {
      let updates: Update[];
      try {
        const offset = deps.offset();
        updates = await deps.client.call<Update[]>(
          'getUpdates',
          { ...(offset === null ? {} : { offset }), timeout: deps.pollTimeoutS ?? POLL_TIMEOUT_S, allowed_updates: ['message'] },
          { signal, attempts: 1 },
        );
        deps.onPoll();
      } catch (error) {
        if (signal.aborted) break;
        const fatal = error instanceof TelegramApiError && (error.code === 401 || error.code === 404);
        deps.onError(error, fatal);
        if (fatal) break;
        const waitMs = error instanceof TelegramApiError && error.retryAfterS !== undefined ? error.retryAfterS * 1000 : backoffMs;
        backoffMs = Math.min(backoffMs * 2, POLL_BACKOFF_MAX_MS);
        await abortableSleep(waitMs, signal);
        continue;
      }
      backoffMs = POLL_BACKOFF_START_MS;
      for (const update of updates) {
        // The update in hand is finished even when a stop comes in: its turn may be half stored.
        try {
          await deps.handle(update);
        } catch (error) {
          deps.onError(error, false);
          // Not acknowledged: the next getUpdates returns it again.
          await abortableSleep(backoffMs, signal);
          break;
        }
        if (signal.aborted) break;
      }
    }
  })();
  return {
    async stop() {
      controller.abort();
      await loop;
    },
  };
}
