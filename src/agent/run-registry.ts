/**
 * Run records: live runs plus ended ones kept at least RUN_RECORD_TTL_MS in a
 * bounded map. The same map answers wait/getRun and, with the fingerprints
 * idempotency.ts makes, repeated keys. Pruned lazily: no timers.
 */

import type { RunProgress } from './run-progress.js';
import type { RunRecord } from './types.js';

/** How long an ended run stays answerable (ms); docs/protocol.md §6.1 asks for ≥ 10 min. */
export const RUN_RECORD_TTL_MS = 10 * 60 * 1000;
/** Ended records kept at most; the oldest go first when a burst exceeds it. */
export const MAX_ENDED_RUN_RECORDS = 5_000;

export type AbortReason = 'rpc' | 'timeout' | 'shutdown';

/** A run that has not ended: accepting (user message being stored), queued or running. */
export interface LiveRun {
  readonly record: RunRecord;
  readonly fingerprint: string;
  readonly controller: AbortController;
  phase: 'accepting' | 'queued' | 'running';
  abortReason?: AbortReason;
  /** Settles when the user message is stored (or storing failed). */
  readonly accepted: Promise<void>;
  /** Resolves when the run has ended and its record is final. */
  readonly ended: Promise<void>;
  /** Ends the run early while it still waits for its turn; false once it started. */
  cancelQueued?: () => boolean;
  /** Numbers the run's events and keeps its reply so far; set when the run starts. */
  progress?: RunProgress;
}

interface EndedRun {
  record: RunRecord;
  fingerprint: string;
}

interface LiveEntry extends LiveRun {
  resolveEnded: () => void;
}

export class RunRegistry {
  readonly #live = new Map<string, LiveEntry>();
  /** In end order, so the oldest is first. */
  readonly #ended = new Map<string, EndedRun>();
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxEnded: number;

  constructor(options: { now?: () => number; ttlMs?: number; maxEnded?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs ?? RUN_RECORD_TTL_MS;
    this.#maxEnded = options.maxEnded ?? MAX_ENDED_RUN_RECORDS;
  }

  live(runId: string): LiveRun | undefined {
    return this.#live.get(runId);
  }

  /** The record of a live or remembered run. */
  record(runId: string): RunRecord | undefined {
    const live = this.#live.get(runId);
    if (live !== undefined) return live.record;
    this.#prune();
    return this.#ended.get(runId)?.record;
  }

  /** Fingerprint of a live or remembered run; an expired record is forgotten here too, so it cannot refuse its key. */
  fingerprint(runId: string): string | undefined {
    const live = this.#live.get(runId);
    if (live !== undefined) return live.fingerprint;
    this.#prune();
    return this.#ended.get(runId)?.fingerprint;
  }

  /** The newest remembered run whose record matches, ended runs only. */
  newestEnded(match: (record: RunRecord) => boolean): RunRecord | undefined {
    this.#prune();
    const ended = [...this.#ended.values()];
    for (let i = ended.length - 1; i >= 0; i--) if (match(ended[i]!.record)) return ended[i]!.record;
    return undefined;
  }

  liveRuns(): LiveRun[] {
    return [...this.#live.values()];
  }

  get liveCount(): number {
    return this.#live.size;
  }

  /** Register a new run; `accepted` is the promise that stores its user message. */
  add(record: RunRecord, fingerprint: string, accepted: Promise<void>): LiveRun {
    let resolveEnded!: () => void;
    const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
    const entry: LiveEntry = {
      record,
      fingerprint,
      controller: new AbortController(),
      phase: 'accepting',
      accepted,
      ended,
      resolveEnded,
    };
    this.#live.set(record.runId, entry);
    return entry;
  }

  /** Forget a run whose user message could not be stored: it never existed. */
  discard(runId: string): void {
    const entry = this.#live.get(runId);
    if (entry === undefined) return;
    this.#live.delete(runId);
    entry.resolveEnded();
  }

  /** Move a run to the ended records and wake its waiters. */
  finish(runId: string): void {
    const entry = this.#live.get(runId);
    if (entry === undefined) return;
    this.#live.delete(runId);
    this.#ended.set(runId, { record: entry.record, fingerprint: entry.fingerprint });
    this.#prune();
    entry.resolveEnded();
  }

  /** Remember a run that ended before this process started (idempotency across restarts). */
  remember(record: RunRecord, fingerprint: string): void {
    if (this.#live.has(record.runId) || this.#ended.has(record.runId)) return;
    this.#ended.set(record.runId, { record, fingerprint });
    this.#prune();
  }

  /** The record once the run ends, or as it is after timeoutMs; undefined for unknown runs. */
  async wait(runId: string, timeoutMs: number): Promise<RunRecord | undefined> {
    const live = this.#live.get(runId);
    if (live === undefined) return this.record(runId);
    if (!(timeoutMs > 0)) return live.record;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(timeoutMs, MAX_TIMER_MS))));
    try {
      await Promise.race([live.ended, timedOut]);
    } finally {
      clearTimeout(timer);
    }
    return live.record;
  }

  #prune(): void {
    const cutoff = this.#now() - this.#ttlMs;
    for (const [runId, ended] of this.#ended) {
      const tooMany = this.#ended.size > this.#maxEnded;
      if (!tooMany && (ended.record.endedAt ?? 0) >= cutoff) break;
      this.#ended.delete(runId);
    }
  }
}

/** setTimeout's largest delay; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
