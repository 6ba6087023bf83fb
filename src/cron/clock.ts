/**
 * The scheduler's view of time. Tests pass a fake that advances on demand,
 * so no test waits for a real minute to see a job fire.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Epoch ms. */
  now(): number;
  /** Call `fn` once after `delayMs`; the timer never keeps the process alive. */
  setTimer(fn: () => void, delayMs: number): TimerHandle;
}

/** Wall-clock time and real (unref'd) timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, delayMs) {
    const timer = setTimeout(fn, delayMs);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
