/**
 * The Control UI's preferences (users.prefs.*): small JSON values by key,
 * kept for the one operator in `<stateDir>/control-ui-prefs.json`, written
 * atomically. Loaded on first use, so a gateway whose clients never ask pays nothing.
 */

import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../sessions/atomic-write.js';

/** Most preference keys stored. */
export const MAX_PREF_KEYS = 256;
/** Longest preference key, characters. */
export const MAX_PREF_KEY_CHARS = 200;
/** Largest stored preferences file, bytes of JSON. */
export const MAX_PREFS_BYTES = 256 * 1024;

export type PrefsWriteResult = { status: 'ok' } | { status: 'conflict'; entries: Record<string, unknown> };

export class UserPrefs {
  readonly #path: string;
  #entries: Map<string, unknown> | undefined;
  /** Writes one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  /** The stored values of `keys` (all when undefined); missing keys are left out. */
  async get(keys: readonly string[] | undefined): Promise<Record<string, unknown>> {
    const entries = await this.#load();
    const out: Record<string, unknown> = {};
    for (const key of keys ?? entries.keys()) if (entries.has(key)) out[key] = entries.get(key);
    return out;
  }

  /**
   * Set `entries` (null removes a key) when every key of `expected` holds the
   * expected value (null: absent); otherwise change nothing and report the current values.
   * @throws RangeError when the result would exceed MAX_PREF_KEYS or MAX_PREFS_BYTES.
   */
  set(entries: Record<string, unknown>, expected: Record<string, unknown> | undefined): Promise<PrefsWriteResult> {
    const result = this.#queue.then(async (): Promise<PrefsWriteResult> => {
      const current = await this.#load();
      if (expected !== undefined) {
        const mismatched = Object.keys(expected).filter((key) => JSON.stringify(current.get(key) ?? null) !== JSON.stringify(expected[key] ?? null));
        if (mismatched.length > 0) return { status: 'conflict', entries: Object.fromEntries(Object.keys(expected).map((key) => [key, current.get(key) ?? null])) };
      }
      const next = new Map(current);
      for (const [key, value] of Object.entries(entries)) {
        if (value === null) next.delete(key);
        else next.set(key, value);
      }
      if (next.size > MAX_PREF_KEYS) throw new RangeError(`at most ${MAX_PREF_KEYS} preferences are kept`);
      const text = JSON.stringify(Object.fromEntries(next));
      if (Buffer.byteLength(text, 'utf8') > MAX_PREFS_BYTES) throw new RangeError(`preferences are limited to ${MAX_PREFS_BYTES} bytes`);
      await writeFileAtomic(this.#path, text);
      this.#entries = next;
      return { status: 'ok' };
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #load(): Promise<Map<string, unknown>> {
    if (this.#entries !== undefined) return this.#entries;
    let parsed: unknown = {};
    try {
      parsed = JSON.parse(await readFile(this.#path, 'utf8'));
    } catch {
      // Missing or unreadable: start empty; the next write replaces it.
    }
    this.#entries ??= new Map(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? Object.entries(parsed) : []);
    return this.#entries;
  }
}
