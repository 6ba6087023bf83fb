/**
 * Which configured models failed recently and must not be called again yet.
 * Shared by every run of the process (a rate limit is per endpoint, not per
 * session) and kept in memory: a restart forgets it, as a restart is also
 * when a user changes keys or endpoints.
 */

/** First cooldown of a model that failed without saying how long to wait, ms. */
export const DEFAULT_COOLDOWN_BASE_MS = 30_000;
/** Longest cooldown, whatever the provider's Retry-After says, ms. */
export const MAX_COOLDOWN_MS = 60 * 60 * 1000;
/** Ceiling of the doubling cooldown of repeated failures without Retry-After, ms. */
const MAX_DEFAULT_COOLDOWN_MS = 5 * 60 * 1000;

/** One model's state, as usage.status reports it. */
export interface CooldownState {
  key: string;
  /** Epoch ms the model may be called again. */
  until: number;
  /** Failures in a row since its last success. */
  failures: number;
  /** The last failure's message. */
  lastError: string;
}

export interface ModelCooldownsOptions {
  /** First cooldown without Retry-After, doubled per failure in a row up to 5 minutes, ms (default 30000). */
  baseMs?: number;
  now?: () => number;
}

/** Cooldown book keyed by a model's identity (`kind/model@baseUrl`). */
export class ModelCooldowns {
  readonly #baseMs: number;
  readonly #now: () => number;
  readonly #states = new Map<string, CooldownState>();

  constructor(options: ModelCooldownsOptions = {}) {
    this.#baseMs = options.baseMs ?? DEFAULT_COOLDOWN_BASE_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Record a failure; the model cools down for `retryAfterMs` when the provider gave one. */
  fail(key: string, error: string, retryAfterMs?: number): CooldownState {
    const failures = (this.#states.get(key)?.failures ?? 0) + 1;
    const fallback = Math.min(this.#baseMs * 2 ** (failures - 1), Math.max(this.#baseMs, MAX_DEFAULT_COOLDOWN_MS));
    const wait = Math.min(retryAfterMs ?? fallback, MAX_COOLDOWN_MS);
    const state = { key, until: this.#now() + Math.max(0, wait), failures, lastError: error };
    this.#states.set(key, state);
    return state;
  }

  /** A completed call clears the model's record. */
  succeed(key: string): void {
    this.#states.delete(key);
  }

  /** Ms until the model may be called again; 0 when it may be called now. */
  remainingMs(key: string): number {
    const state = this.#states.get(key);
    if (state === undefined) return 0;
    return Math.max(0, state.until - this.#now());
  }

  /** Models failing now or recently, for status reports. */
  list(): CooldownState[] {
    return [...this.#states.values()].map((state) => ({ ...state }));
  }
}
