/**
 * Per-connection flood guard (docs/protocol.md §8.3): too many consecutive error
 * responses, or a request rate above the limit for several whole seconds in
 * a row, exhausts the budget and the connection is closed.
 */

export interface RequestBudgetOptions {
  /** Consecutive `ok:false` responses allowed (default 100). */
  maxConsecutiveErrors?: number;
  /** Requests per second above which a second counts as "over" (default 50). */
  maxRequestsPerSecond?: number;
  /** Consecutive over-limit seconds that exhaust the budget (default 5). */
  sustainedSeconds?: number;
}

export const DEFAULT_MAX_CONSECUTIVE_ERRORS = 100;
export const DEFAULT_MAX_REQUESTS_PER_SECOND = 50;
export const DEFAULT_SUSTAINED_SECONDS = 5;
const SECOND_MS = 1000;

export class RequestBudget {
  readonly #maxErrors: number;
  readonly #maxPerSecond: number;
  readonly #sustained: number;
  #consecutiveErrors = 0;
  #bucketStart = 0;
  #bucketCount = 0;
  #overSeconds = 0;

  constructor(options: RequestBudgetOptions = {}) {
    this.#maxErrors = options.maxConsecutiveErrors ?? DEFAULT_MAX_CONSECUTIVE_ERRORS;
    this.#maxPerSecond = options.maxRequestsPerSecond ?? DEFAULT_MAX_REQUESTS_PER_SECOND;
    this.#sustained = options.sustainedSeconds ?? DEFAULT_SUSTAINED_SECONDS;
  }

  /** Count one request; false when the rate has been over the limit for too long. */
  noteRequest(now: number): boolean {
    if (now - this.#bucketStart >= SECOND_MS) {
      const elapsed = now - this.#bucketStart;
      const wasOver = this.#bucketCount > this.#maxPerSecond;
      // A gap of more than one second breaks the streak.
      this.#overSeconds = wasOver && elapsed < 2 * SECOND_MS ? this.#overSeconds + 1 : 0;
      this.#bucketStart = now;
      this.#bucketCount = 0;
    }
    this.#bucketCount++;
    if (this.#bucketCount > this.#maxPerSecond && this.#overSeconds + 1 >= this.#sustained) return false;
    return true;
  }

  /** Count one response outcome; false once too many errors came in a row. */
  noteOutcome(ok: boolean): boolean {
    if (ok) {
      this.#consecutiveErrors = 0;
      return true;
    }
    this.#consecutiveErrors++;
    return this.#consecutiveErrors < this.#maxErrors;
  }
}
