/**
 * Hands memory back once a burst of work is over. V8 grows its young
 * generation and old-space pages for a burst (a thousand handshakes, a
 * thousand chat turns, a 10 MB reply) and, in a server process that stays
 * idle, does not shrink them again: RSS stays at the burst's peak for as long
 * as the gateway runs. So after activity, the reclaimer watches the event
 * loop; once a whole window has passed with the loop nearly idle, it runs one
 * full garbage collection (incremental, off the hot path) and stops watching
 * until the next activity. An idle gateway pays nothing: no timer runs.
 */

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Quiet window before a collection, ms: longer than the 5 s over which V8 rates allocation, so the collection also shrinks the young generation. */
export const DEFAULT_RECLAIM_QUIET_MS = 6_000;
/** A window whose event-loop utilisation stays below this counts as quiet. */
const QUIET_UTILISATION = 0.02;

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void | Promise<void>;

export interface MemoryReclaimer {
  /** Something happened (a request, a run): collect once the loop has been quiet for a window. */
  poke(): void;
  /** Full collections run so far. */
  readonly collections: number;
  stop(): void;
}

export interface MemoryReclaimerOptions {
  quietMs?: number;
  /** Default: V8's own `gc`, exposed at run time. */
  gc?: GcFunction;
}

export function createMemoryReclaimer(options: MemoryReclaimerOptions = {}): MemoryReclaimer {
  const quietMs = options.quietMs ?? DEFAULT_RECLAIM_QUIET_MS;
  const gc = options.gc ?? exposeGc();
  let timer: NodeJS.Timeout | undefined;
  let windowStart: EventLoopUtilization | undefined;
  let collections = 0;
  let stopped = false;

  function arm(): void {
    windowStart = performance.eventLoopUtilization();
    timer = setTimeout(check, quietMs);
    // Never what keeps the process alive.
    timer.unref();
  }

  function check(): void {
    timer = undefined;
    if (stopped) return;
    const window = performance.eventLoopUtilization(windowStart);
    if (window.utilization > QUIET_UTILISATION) {
      arm();
      return;
    }
    collections++;
    void Promise.resolve(gc({ type: 'major', execution: 'async' })).catch(() => undefined);
  }

  return {
    poke() {
      if (timer === undefined && !stopped) arm();
    },
    get collections() {
      return collections;
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** V8's `gc` without starting node with --expose-gc: the flag applies to contexts created after it is set. */
function exposeGc(): GcFunction {
  const existing = (globalThis as { gc?: GcFunction }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as GcFunction;
  // Contexts made later (a tool's vm, a test's) do not get it.
  setFlagsFromString('--no-expose-gc');
  return gc;
}
