/**
 * Event-loop health for health, status, system.info and channels.status, in
 * OpenClaw's `eventLoop` shape. The delay histogram starts on the first read,
 * so a gateway nobody asks pays nothing; each read covers the time since the
 * previous one.
 */

import { cpus } from 'node:os';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

/** Delay at the 99th percentile above which the loop counts as degraded, ms. */
export const DEGRADED_DELAY_P99_MS = 200;
/** Share of time the loop is busy above which it counts as degraded. */
export const DEGRADED_UTILIZATION = 0.9;
/** Histogram resolution, ms. */
const RESOLUTION_MS = 20;
const NS_PER_MS = 1e6;

export interface EventLoopStats {
  degraded: boolean;
  degradedSinceMs: number | null;
  reasons: string[];
  /** Time the figures cover, ms. */
  intervalMs: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /** Share of the interval the loop was busy, 0–1. */
  utilization: number;
  /** CPU time used per wall-clock time, in cores. */
  cpuCoreRatio: number;
  cpuBreakdown: { mainThreadCoreRatio: number; hostCpuCount: number };
}

/** Reads the loop's health; one per process is enough. */
export class EventLoopMonitor {
  #histogram: IntervalHistogram | undefined;
  #lastElu: EventLoopUtilization | undefined;
  #lastCpu: NodeJS.CpuUsage | undefined;
  #lastAt = 0;
  #degradedSince: number | null = null;
  #last: EventLoopStats | undefined;

  /** Figures since the previous read (the first read covers the time since the process started). */
  read(now = Date.now()): EventLoopStats {
    if (this.#histogram === undefined) {
      this.#histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      this.#histogram.enable();
    }
    // Reads closer together than the histogram's resolution would report nothing new.
    if (this.#last !== undefined && now - this.#lastAt < RESOLUTION_MS) return this.#last;
    const elu = performance.eventLoopUtilization(this.#lastElu);
    const cpu = process.cpuUsage(this.#lastCpu);
    const intervalMs = this.#lastAt === 0 ? performance.now() : now - this.#lastAt;
    const count = this.#histogram.count;
    const delayP99Ms = count === 0 ? 0 : round(this.#histogram.percentile(99) / NS_PER_MS);
    const delayMaxMs = count === 0 ? 0 : round(this.#histogram.max / NS_PER_MS);
    this.#histogram.reset();
    this.#lastElu = performance.eventLoopUtilization();
    this.#lastCpu = process.cpuUsage();
    this.#lastAt = now;
    const cpuCoreRatio = intervalMs > 0 ? round((cpu.user + cpu.system) / 1000 / intervalMs, 3) : 0;
    const reasons: string[] = [];
    if (delayP99Ms > DEGRADED_DELAY_P99_MS) reasons.push('delay');
    if (elu.utilization > DEGRADED_UTILIZATION) reasons.push('cpu');
    const degraded = reasons.length > 0;
    if (degraded) this.#degradedSince ??= now;
    else this.#degradedSince = null;
    this.#last = {
      degraded,
      degradedSinceMs: this.#degradedSince === null ? null : now - this.#degradedSince,
      reasons,
      intervalMs: round(intervalMs),
      delayP99Ms,
      delayMaxMs,
      utilization: round(elu.utilization, 3),
      cpuCoreRatio,
      cpuBreakdown: { mainThreadCoreRatio: cpuCoreRatio, hostCpuCount: cpus().length },
    };
    return this.#last;
  }

  /** Stop the histogram (at close). */
  stop(): void {
    this.#histogram?.disable();
  }
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
