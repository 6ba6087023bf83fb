/**
 * Failed-credential limiter (docs/protocol.md §8.4): too many wrong secrets from
 * one key within a window lock that key out for a while, even for the right
 * secret. Memory is bounded: expired entries are pruned and, past the entry
 * cap, the oldest entries are dropped.
 */

export interface AuthRateLimiterOptions {
  /** Failures within `windowMs` that trigger a lockout (default 10). */
  maxFailures?: number;
  /** Failure counting window, ms (default 60 000). */
  windowMs?: number;
  /** Lockout length, ms (default 300 000). */
  lockoutMs?: number;
  /** Most keys kept (default 10 000). */
  maxEntries?: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** Shared by every place that checks the gateway secret (WebSocket connect, HTTP bearer). */
export interface AuthRateLimiter {
  check(key: string, now?: number): RateDecision;
  /** Count one wrong credential (a missing one is not counted). */
  recordFailure(key: string, now?: number): void;
  recordSuccess(key: string): void;
  /** Keys currently held (for bounds checks). */
  readonly size: number;
}

export const DEFAULT_AUTH_MAX_FAILURES = 10;
export const DEFAULT_AUTH_WINDOW_MS = 60_000;
export const DEFAULT_AUTH_LOCKOUT_MS = 300_000;
export const DEFAULT_AUTH_MAX_ENTRIES = 10_000;
/** Share of the entries freed when the map is full. */
const EVICT_FRACTION = 0.1;

interface Entry {
  /** Failure times inside the window, oldest first (at most maxFailures). */
  failures: number[];
  lockedUntil: number;
}

/** Create an in-memory limiter. */
export function createAuthRateLimiter(options: AuthRateLimiterOptions = {}): AuthRateLimiter {
  const maxFailures = options.maxFailures ?? DEFAULT_AUTH_MAX_FAILURES;
  const windowMs = options.windowMs ?? DEFAULT_AUTH_WINDOW_MS;
  const lockoutMs = options.lockoutMs ?? DEFAULT_AUTH_LOCKOUT_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_AUTH_MAX_ENTRIES;
  const entries = new Map<string, Entry>();

  function isStale(entry: Entry, now: number): boolean {
    const last = entry.failures[entry.failures.length - 1] ?? 0;
    return entry.lockedUntil <= now && now - last >= windowMs;
  }

  /**
   * Called only when the map is full. Frees a tenth of the entries at once so
   * a spray of fresh keys costs amortised O(1) per key, not a scan each.
   */
  function makeRoom(now: number): void {
    if (entries.size < maxEntries) return;
    const target = maxEntries - Math.max(1, Math.floor(maxEntries * EVICT_FRACTION));
    for (const [key, entry] of entries) if (isStale(entry, now)) entries.delete(key);
    // Then the oldest keys that are not locked out (Map keeps insertion order),
    // so spraying fresh keys cannot flush an attacker's own lockout.
    for (const [key, entry] of entries) {
      if (entries.size <= target) return;
      if (entry.lockedUntil <= now) entries.delete(key);
    }
    // Every key is locked out: the oldest lockouts go, which takes maxEntries lockouts to reach.
    for (const key of entries.keys()) {
      if (entries.size <= target) return;
      entries.delete(key);
    }
  }

  return {
    check(key, now = Date.now()) {
      const entry = entries.get(key);
      if (entry === undefined || entry.lockedUntil <= now) return { allowed: true };
      return { allowed: false, retryAfterMs: entry.lockedUntil - now };
    },
    recordFailure(key, now = Date.now()) {
      let entry = entries.get(key);
      if (entry === undefined) {
        makeRoom(now);
        entry = { failures: [], lockedUntil: 0 };
        entries.set(key, entry);
      }
      while (entry.failures.length > 0 && now - entry.failures[0]! >= windowMs) entry.failures.shift();
      entry.failures.push(now);
      if (entry.failures.length >= maxFailures) {
        entry.lockedUntil = now + lockoutMs;
        entry.failures = [];
      }
    },
    recordSuccess(key) {
      entries.delete(key);
    },
    get size() {
      return entries.size;
    },
  };
}
