/**
 * When a schedule fires next. `cron` expressions go through croner, which is
 * imported on first use (loadCronEngine) so a gateway without cron jobs never
 * loads it. Everything here is pure given the engine and a `now`.
 */

import type { CronSchedule } from './cron-types.js';

/** The part of croner the scheduler uses. */
export interface CronEngine {
  /** Next fire strictly after `after`, or undefined when the pattern never fires again. Throws on a bad pattern or zone. */
  nextAfter(expr: string, tz: string | undefined, after: number): number | undefined;
}

let engine: Promise<CronEngine> | undefined;

/** Load croner once (dynamic import: not part of start-up). */
export function loadCronEngine(): Promise<CronEngine> {
  engine ??= import('croner').then(({ Cron }) => ({
    nextAfter(expr, tz, after) {
      // 5 fields (minute precision) or 6 (leading seconds), as OpenClaw documents; day-of-month and
      // day-of-week combine with OR like Vixie cron (croner's default).
      const pattern = new Cron(expr, { paused: true, mode: '5-or-6-parts', ...(tz === undefined ? {} : { timezone: tz }) });
      const next = pattern.nextRun(new Date(after));
      return next === null ? undefined : next.getTime();
    },
  }));
  return engine;
}

/**
 * The first fire time strictly after `afterMs`, or undefined when there is
 * none (an `at` already past, a cron pattern that never matches again).
 */
export function nextRunAfter(schedule: CronSchedule, afterMs: number, cron: CronEngine | undefined, createdAtMs: number): number | undefined {
  switch (schedule.kind) {
    case 'at': {
      const at = Date.parse(schedule.at);
      return at > afterMs ? at : undefined;
    }
    case 'every': {
      const anchor = schedule.anchorMs ?? createdAtMs;
      if (afterMs < anchor) return anchor;
      const periods = Math.floor((afterMs - anchor) / schedule.everyMs) + 1;
      return anchor + periods * schedule.everyMs;
    }
    case 'cron': {
      if (cron === undefined) throw new Error('cron engine not loaded');
      return cron.nextAfter(schedule.expr, schedule.tz, afterMs);
    }
  }
}
