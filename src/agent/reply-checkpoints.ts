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
  readonly #save: (pieces: readonly string[]) => Promise<void>;
  readonly #onError: (error: unknown) => void;
  /** Text waiting, as the deltas themselves: the store keeps these strings, shared with the run's reply. */
  #pending: string[] = [];
  #pendingChars = 0;
  #saved = false;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;

  constructor(save: (pieces: readonly string[]) => Promise<void>, onError: (error: unknown) => void) {
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
      (pieces) => checkpoint(sessionKey, runId, pieces),
      (error) => logger?.warn('could not checkpoint a streamed reply', { runId, sessionKey, error: String(error) }),
    );
  }

  /** Streamed text: `delta` added to the current message, whose text so far is `text`. */
  add(delta: string, text: string): void {
    if (this.#closed || delta === '') return;
    // A message's first delta after earlier text: keep the two replies apart.
    if (delta === text && (this.#saved || this.#pendingChars > 0)) this.#queueText(MESSAGE_SEPARATOR);
    this.#queueText(delta);
    if (this.#pendingChars >= CHECKPOINT_CHARS) this.#flush();
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

  #queueText(text: string): void {
    this.#pending.push(text);
    this.#pendingChars += text.length;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#inFlight !== undefined || this.#pendingChars === 0 || this.#closed) return;
    const pieces = this.#pending;
    this.#pending = [];
    this.#pendingChars = 0;
    this.#saved = true;
    this.#inFlight = this.#save(pieces)
      .catch(this.#onError)
      .finally(() => {
        this.#inFlight = undefined;
        if (this.#pendingChars >= CHECKPOINT_CHARS) this.#flush();
        else if (this.#pendingChars > 0 && !this.#closed) this.#timer ??= setTimeout(() => this.#flush(), CHECKPOINT_INTERVAL_MS).unref();
      });
  }
}
