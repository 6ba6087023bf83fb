/**
 * What a finished run does to its job (OpenClaw's rules): one-time jobs are
 * deleted after success or disabled after any other outcome; recurring jobs
 * move to their next slot, backing off after consecutive failures.
 */

import type { CronJob } from './cron-types.js';
import type { RunOutcome } from './job-runner.js';

/** Back-off after consecutive failures of a recurring job (OpenClaw's schedule), ms. */
export const ERROR_BACKOFF_MS = [30_000, 60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000] as const;
/** A cron job never fires again sooner than this after a run ended (guards same-second re-fires), ms. */
export const MIN_REFIRE_GAP_MS = 2_000;

/**
 * Record a run's outcome on `job` (in place) and set its next run.
 * `nextAfter` gives the schedule's next fire time after an instant.
 * Returns true when the job is to be deleted.
 */
export function applyRunResult(job: CronJob, outcome: RunOutcome, startedAt: number, endedAt: number, nextAfter: (afterMs: number) => number | undefined): boolean {
  const state = job.state;
  state.lastRunAtMs = startedAt;
  state.lastRunStatus = state.lastStatus = outcome.status;
  state.lastDurationMs = Math.max(0, endedAt - startedAt);
  state.lastDeliveryStatus = outcome.deliveryStatus;
  if (outcome.delivered === undefined) delete state.lastDelivered;
  else state.lastDelivered = outcome.delivered;
  if (outcome.error === undefined) delete state.lastError;
  else state.lastError = outcome.error;
  state.consecutiveErrors = outcome.status === 'error' ? (state.consecutiveErrors ?? 0) + 1 : 0;
  job.updatedAtMs = endedAt;
  if (job.schedule.kind === 'at') {
    if (job.deleteAfterRun === true && outcome.status === 'ok') return true;
    // One-time jobs are disabled after any other outcome, so a failure is kept for inspection, not replayed.
    job.enabled = false;
    state.nextRunAtMs = undefined;
    return false;
  }
  if (!job.enabled) {
    state.nextRunAtMs = undefined;
    return false;
  }
  let next = nextAfter(endedAt);
  if (job.schedule.kind === 'cron' && next !== undefined) next = Math.max(next, endedAt + MIN_REFIRE_GAP_MS);
  if (outcome.status === 'error') {
    const backoff = ERROR_BACKOFF_MS[Math.min(state.consecutiveErrors - 1, ERROR_BACKOFF_MS.length - 1)];
    next = Math.max(next ?? 0, endedAt + backoff);
  }
  state.nextRunAtMs = next;
  return false;
}
