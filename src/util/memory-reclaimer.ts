/**
 * Hands memory back once a burst of work is over. V8 grows its young
 * generation and old-space pages for a burst (a thousand handshakes, a
 * thousand chat turns, a 10 MB reply) and, in a server process that then
 * idles, does not shrink them again: RSS stays near the burst's peak for as
 * long as the gateway runs. So after activity the reclaimer samples the event
 * loop once a second; once it has been nearly idle for a quiet period and RSS
 * stands well above what it was after the last collection, it runs one full
 * garbage collection (incremental, off the hot path). Then it stops sampling
 * until the next activity, so an idle gateway runs no timer for it, and light
 * traffic (a health check now and then) never triggers a collection.
 */

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Quiet time before handing memory back, ms. V8 shrinks its young generation
 * and releases emptied pages only in a collection that finds the allocation
 * rate low; measured here, a collection sooner than about 10 s after a burst
 * frees the garbage but keeps the pages.
 */
export const DEFAULT_RECLAIM_QUIET_MS = 10_000;
/** How often the event loop is sampled while the reclaimer watches, ms. */
const DEFAULT_TICK_MS = 1_000;
/** RSS growth since the last collection below which there is nothing worth handing back, bytes. */
const DEFAULT_MIN_GROWTH_BYTES = 8 * 1024 * 1024;
/** A tick whose event-loop utilisation stays below this counts as quiet. */
const QUIET_UTILISATION = 0.02;

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void | Promise<void>;

export interface MemoryReclaimer {
  /** Something happened (a request, a run): watch for the quiet that follows. */
  poke(): void;
  /** Times memory was handed back so far (each is two full collections). */
  readonly collections: number;
  stop(): void;
}

export interface MemoryReclaimerOptions {
  quietMs?: number;
  tickMs?: number;
  minGrowthBytes?: number;
  /** Default: V8's own `gc`, exposed at run time. */
  gc?: GcFunction;
  /** Default: the process's resident set size. */
  readRss?: () => number;
}

export function createMemoryReclaimer(options: MemoryReclaimerOptions = {}): MemoryReclaimer {
  const quietMs = options.quietMs ?? DEFAULT_RECLAIM_QUIET_MS;
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  const minGrowthBytes = options.minGrowthBytes ?? DEFAULT_MIN_GROWTH_BYTES;
  const readRss = options.readRss ?? (() => process.memoryUsage.rss());
  // Exposed on the first collection, not at start-up: it builds a V8 context.
  let gc = options.gc;
  /** RSS when there was last nothing to hand back: at start, then just after each collection. */
  let baseline = readRss();
  let timer: NodeJS.Timeout | undefined;
  let tickStart: EventLoopUtilization | undefined;
  let quietFor = 0;
  let settling: 'second-collection' | 'baseline' | undefined;
  let collections = 0;
  let stopped = false;

  function arm(): void {
    tickStart = performance.eventLoopUtilization();
    timer = setTimeout(tick, tickMs);
    // Never what keeps the process alive.
    timer.unref();
  }

  function tick(): void {
    timer = undefined;
    if (stopped) return;
    if (settling === 'second-collection') {
      // The first collection frees the garbage; the second, with nothing allocated in between, also releases the
      // pages the first emptied.
      settling = 'baseline';
      collect();
      arm();
      return;
    }
    if (settling === 'baseline') {
      // The collections have run: what is left is the new baseline.
      settling = undefined;
      baseline = readRss();
    }
    const busy = performance.eventLoopUtilization(tickStart).utilization > QUIET_UTILISATION;
    quietFor = busy ? 0 : quietFor + tickMs;
    if (quietFor < quietMs) {
      arm();
      return;
    }
    quietFor = 0;
    if (readRss() - baseline < minGrowthBytes) return;
    collections++;
    collect();
    settling = 'second-collection';
    arm();
  }

  function collect(): void {
    gc ??= exposeGc();
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
