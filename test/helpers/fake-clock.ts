/**
 * A Clock (src/cron/clock.ts) that only moves when a test says so. advance()
 * fires due timers in time order and lets promises settle between them, so
 * a scheduler sees an hour pass in microseconds.
 */

import type { Clock, TimerHandle } from '../../src/cron/clock.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Pending[] = [];
  /** Awaited after each timer fires, so work a timer started can finish before time moves on. */
  settle: (() => Promise<void>) | undefined;

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const timer: Pending = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Timers armed and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((timer) => !timer.cancelled).length;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flush();
      await this.settle?.();
      await flush();
      this.#timers = this.#timers.filter((timer) => !timer.cancelled);
      const next = this.#timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.#now = target;
    await flush();
  }

  /** Jump to an absolute time (no timer fires on the way). */
  set(ms: number): void {
    this.#now = ms;
  }
}

/** Let queued promise callbacks and I/O callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
