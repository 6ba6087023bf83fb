/**
 * Checkpoints of a run's streamed reply (issue 13, item 3): text already
 * streamed to clients is saved to the session at a bounded interval (about
 * once a second, sooner once a few KB are waiting), never an fsync per delta,
 * so after a crash `chat.history` still shows what the user saw, marked
 * interrupted. One write in flight at a time, so drafts land in order.
 */

import type { SessionStore } from '../sessions/types.js';

/** Longest wait between streamed text and its checkpoint, ms. */
export const CHECKPOINT_INTERVAL_MS = 1_000;
/** Characters waiting that trigger a checkpoint at once. */
export const CHECKPOINT_CHARS = 4_096;
/** Put between the texts of two assistant messages of one run (before and after a tool call). */
const MESSAGE_SEPARATOR = '\n\n';

export class ReplyCheckpoints {
  readonly #save: (text: string) => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #pending = '';
  #saved = false;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;

  constructor(save: (text: string) => Promise<void>, onError: (error: unknown) => void) {
    this.#save = save;
    this.#onError = onError;
  }

  /** Checkpoints for `runId` in `store`, or undefined when the store keeps none. */
  static for(
    store: SessionStore,
    sessionKey: string,
    runId: string,
    logger?: { warn(message: string, fields?: Record<string, unknown>): void },
  ): ReplyCheckpoints | undefined {
    const checkpoint = store.checkpoint?.bind(store);
    if (checkpoint === undefined) return undefined;
    return new ReplyCheckpoints(
      (text) => checkpoint(sessionKey, runId, text),
      (error) => logger?.warn('could not checkpoint a streamed reply', { runId, sessionKey, error: String(error) }),
    );
  }

  /** Streamed text: `delta` added to the current message, whose text so far is `text`. */
  add(delta: string, text: string): void {
    if (this.#closed || delta === '') return;
    // A message's first delta after earlier text: keep the two replies apart.
    if (delta === text && (this.#saved || this.#pending !== '')) this.#pending += MESSAGE_SEPARATOR;
    this.#pending += delta;
    if (this.#pending.length >= CHECKPOINT_CHARS) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), CHECKPOINT_INTERVAL_MS).unref();
  }

  /**
   * Stop checkpointing. Text still pending is left to the run's final row; a
   * write in flight needs no wait, the session's queue puts it before that row.
   */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#inFlight !== undefined || this.#pending === '' || this.#closed) return;
    const text = this.#pending;
    this.#pending = '';
    this.#saved = true;
    this.#inFlight = this.#save(text)
      .catch(this.#onError)
      .finally(() => {
        this.#inFlight = undefined;
        if (this.#pending.length >= CHECKPOINT_CHARS) this.#flush();
        else if (this.#pending !== '' && !this.#closed) this.#timer ??= setTimeout(() => this.#flush(), CHECKPOINT_INTERVAL_MS).unref();
      });
  }
}
