/**
 * Parsed session histories kept in memory, least recently used dropped
 * first, each with the set of its message ids for duplicate checks.
 */

import type { StoredMessage } from './types.js';

/** A session's messages in memory (conversation order), with their ids. */
export interface CachedHistory {
  messages: StoredMessage[];
  ids: Set<string>;
}

export class HistoryCache {
  readonly #maxSessions: number;
  /** In least-recently-used order. */
  readonly #entries = new Map<string, CachedHistory>();

  constructor(maxSessions: number) {
    this.#maxSessions = maxSessions;
  }

  /** The cached history, without marking it used. */
  peek(key: string): CachedHistory | undefined {
    return this.#entries.get(key);
  }

  /** Put (or move) a session's messages at the most-recently-used end; drops the oldest beyond the limit. */
  remember(key: string, history: CachedHistory | StoredMessage[]): CachedHistory {
    const value = Array.isArray(history) ? { messages: history, ids: new Set(history.map((m) => m.id)) } : history;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.#maxSessions) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    return value;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
