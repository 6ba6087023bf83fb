/**
 * Coalesces a run's streamed deltas before they are mapped and fanned out
 * (issue 13 item 7). Every chat delta and agent `assistant` event carries the
 * reply so far, so sending one per model chunk costs each watcher O(reply²).
 * Per run, the first delta leaves at once; later ones are merged (deltas
 * joined, the reply so far taken from the newest) and leave when both
 * enough time passed and the text grew by a fraction of what was sent, or
 * after a longer hold that grows with the text. Any other event of the run,
 * an event of its session, and the run's end first flush what is held, so
 * order is kept and the end is never delayed. Each merge removes one event of
 * the run, so later events of the run leave with their `seq` lowered by the
 * merges so far: the run's events stay numbered 1, 2, 3, … as they leave.
 */

import type { AgentEvent, RunEvent } from '../../agent/types.js';

/** Least time between two deltas of one run, ms (OpenClaw throttles chat deltas at about this rate). */
export const DELTA_MIN_INTERVAL_MS = 150;
/** Longest a delta is held when the text grew too little to send it, ms. */
export const DELTA_MAX_HOLD_MS = 1000;
/**
 * The longer hold grows with the text already sent, at this many characters per
 * ms (256 KB a second): re-sending a long text on a slow stream then costs a
 * bounded rate, not one copy per second whatever its size.
 */
export const DELTA_HOLD_CHARS_PER_MS = 256;
/** Text growth, as a fraction of the text already sent, that lets a delta leave after the min interval. */
export const DELTA_GROWTH_RATIO = 0.25;
/** Runs with held deltas tracked at most; beyond this the oldest is flushed and forgotten. */
export const MAX_THROTTLED_RUNS = 1024;

type DeltaEvent = Extract<RunEvent, { type: 'text.delta' | 'thinking.delta' }>;

export interface DeltaThrottleOptions {
  /** Default DELTA_MIN_INTERVAL_MS. */
  minIntervalMs?: number;
  /** Default DELTA_MAX_HOLD_MS. */
  maxHoldMs?: number;
  /** Default DELTA_GROWTH_RATIO. */
  growthRatio?: number;
  /** Clock, ms (default performance.now). */
  now?: () => number;
}

export interface DeltaThrottle {
  /** Take one bus event; `emit` gets it, merged into a later delta, or after what was held before it. */
  push(event: AgentEvent): void;
  /** Drop held deltas and timers (channel close). */
  close(): void;
  /** Armed flush timers (leak checks). */
  readonly timers: number;
}

interface RunThrottle {
  sessionKey: string;
  /** When the last delta of the run left; -Infinity before the first and after any other event. */
  lastSentAt: number;
  /** Text length of the last delta sent for the current stream (kind and item). */
  sentLength: number;
  sentKind: DeltaEvent['type'] | undefined;
  pending: DeltaEvent | undefined;
  /** Length the pending delta's growth is measured from (0 when it starts a new stream). */
  baseLength: number;
  timer: NodeJS.Timeout | undefined;
  timerDueAt: number;
  /** Deltas merged into others so far: what every later seq of the run is lowered by. */
  merged: number;
}

/** Create a throttle that hands events to `emit` in per-run order. `emit` must not throw. */
export function createDeltaThrottle(emit: (event: AgentEvent) => void, options: DeltaThrottleOptions = {}): DeltaThrottle {
  const minIntervalMs = options.minIntervalMs ?? DELTA_MIN_INTERVAL_MS;
  const maxHoldMs = options.maxHoldMs ?? DELTA_MAX_HOLD_MS;
  const growthRatio = options.growthRatio ?? DELTA_GROWTH_RATIO;
  const now = options.now ?? (() => performance.now());
  const runs = new Map<string, RunThrottle>();
  let timers = 0;

  function runOf(event: RunEvent): RunThrottle {
    let run = runs.get(event.runId);
    if (run === undefined) {
      if (runs.size >= MAX_THROTTLED_RUNS) {
        const [oldestId, oldest] = runs.entries().next().value as [string, RunThrottle];
        flush(oldest);
        runs.delete(oldestId);
      }
      run = {
        sessionKey: event.sessionKey,
        lastSentAt: Number.NEGATIVE_INFINITY,
        sentLength: 0,
        sentKind: undefined,
        pending: undefined,
        baseLength: 0,
        timer: undefined,
        timerDueAt: 0,
        merged: 0,
      };
      runs.set(event.runId, run);
    }
    return run;
  }

  function flush(run: RunThrottle): void {
    disarm(run);
    const event = run.pending;
    if (event === undefined) return;
    run.pending = undefined;
    run.lastSentAt = now();
    run.sentLength = event.text.length;
    run.sentKind = event.type;
    emit(renumbered(event, run));
  }

  function disarm(run: RunThrottle): void {
    if (run.timer === undefined) return;
    clearTimeout(run.timer);
    run.timer = undefined;
    timers--;
  }

  function pushDelta(event: DeltaEvent): void {
    const run = runOf(event);
    // The text restarts (text === delta) with each new assistant message: never merge across that.
    const startsStream = event.text === event.delta || event.type !== (run.pending?.type ?? run.sentKind);
    if (run.pending !== undefined && startsStream) flush(run);
    if (run.pending === undefined) {
      run.baseLength = startsStream ? 0 : run.sentLength;
      run.pending = event;
    } else {
      run.pending = { ...event, delta: run.pending.delta + event.delta };
      run.merged += 1;
    }
    schedule(run);
  }

  /** Send the held delta now if it may leave, else arm a timer for when it may. */
  function schedule(run: RunThrottle): void {
    const pending = run.pending;
    if (pending === undefined) return;
    const grown = pending.text.length - run.baseLength >= growthRatio * run.baseLength;
    const hold = Math.max(maxHoldMs, run.baseLength / DELTA_HOLD_CHARS_PER_MS);
    const dueAt = run.lastSentAt + (grown ? minIntervalMs : hold);
    const at = now();
    if (at >= dueAt) {
      flush(run);
      return;
    }
    if (run.timer !== undefined && run.timerDueAt === dueAt) return;
    disarm(run);
    run.timerDueAt = dueAt;
    run.timer = setTimeout(() => flush(run), Math.ceil(dueAt - at));
    run.timer.unref();
    timers++;
  }

  function pushOther(event: AgentEvent): void {
    if (event.type === 'session.message' || event.type === 'session.changed') {
      // A session event may report the run's result; the run's held deltas go first.
      for (const run of runs.values()) if (run.sessionKey === event.sessionKey) flush(run);
    } else if (event.type !== 'cron' && event.type !== 'heartbeat') {
      const run = runs.get(event.runId);
      if (run !== undefined) {
        flush(run);
        if (event.type === 'run.end') runs.delete(event.runId);
        // After a tool call or other step, the next delta is news: let it leave at once.
        else run.lastSentAt = Number.NEGATIVE_INFINITY;
        emit(renumbered(event, run));
        return;
      }
    }
    emit(event);
  }

  return {
    push(event) {
      if (event.type === 'text.delta' || event.type === 'thinking.delta') pushDelta(event);
      else pushOther(event);
    },
    close() {
      for (const run of runs.values()) disarm(run);
      runs.clear();
    },
    get timers() {
      return timers;
    },
  };
}

/** The event as it leaves: its seq lowered by the run's merges so far. */
function renumbered<E extends RunEvent>(event: E, run: RunThrottle): E {
  return run.merged === 0 ? event : { ...event, seq: event.seq - run.merged };
}
