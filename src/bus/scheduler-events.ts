/**
 * Scheduler events on the outbound bus: changes and runs of cron jobs, and
 * heartbeat outcomes. Their fields follow OpenClaw's `cron` and `heartbeat`
 * event payloads, so the channel forwards them unchanged.
 */

/** What happened to a job. `started`/`finished` bracket one run. */
export type CronEventAction = 'added' | 'updated' | 'removed' | 'started' | 'finished';

export interface CronEventPayload {
  jobId: string;
  action: CronEventAction;
  /** started/finished: when the run began, epoch ms. */
  runAtMs?: number;
  runId?: string;
  status?: 'ok' | 'error' | 'skipped';
  error?: string;
  summary?: string;
  delivered?: boolean;
  deliveryStatus?: 'delivered' | 'not-delivered' | 'unknown' | 'not-requested';
  deliveryError?: string;
  sessionKey?: string;
  durationMs?: number;
  nextRunAtMs?: number;
}

export interface HeartbeatEventPayload {
  ts: number;
  /** sent: a reply was delivered; ok-token/ok-empty: an acknowledgement, not delivered; skipped; failed. */
  status: 'sent' | 'ok-empty' | 'ok-token' | 'skipped' | 'failed';
  /** Session the reply went to. */
  to?: string;
  preview?: string;
  durationMs?: number;
  reason?: string;
  indicatorType?: 'ok' | 'alert' | 'error';
}

export type SchedulerEvent = { type: 'cron'; payload: CronEventPayload } | { type: 'heartbeat'; payload: HeartbeatEventPayload };
