/**
 * Scheduled jobs in OpenClaw's model (automation/cron-jobs): a schedule
 * (`at`, `every`, `cron`), a payload for the agent, the session it runs in,
 * where its reply is delivered, and the runtime state the scheduler keeps.
 */

import type { CronEventPayload } from '../bus/scheduler-events.js';

export type CronSchedule =
  /** One time, at an ISO-8601 instant (stored normalised to UTC, `…Z`). */
  | { kind: 'at'; at: string }
  /** Every `everyMs`, counted from `anchorMs` (default: when the job was created). */
  | { kind: 'every'; everyMs: number; anchorMs?: number }
  /** A 5- or 6-field cron expression in `tz` (default: the gateway host's zone). */
  | { kind: 'cron'; expr: string; tz?: string };

export type CronPayload =
  /** A note for the main session; Pincer runs it as a turn whose message is the text. */
  | { kind: 'systemEvent'; text: string }
  /** A model turn with this message. */
  | { kind: 'agentTurn'; message: string; timeoutSeconds?: number };

/**
 * Where a run happens: `main` (the agent's main session), `isolated` (a
 * fresh transcript in `agent:main:cron:<jobId>` per run) or `session:<key>`
 * (an existing session, context kept across runs).
 */
export type CronSessionTarget = 'main' | 'isolated' | `session:${string}`;

/**
 * What happens to a run's reply. `none`: it stays in the run's session.
 * `announce`: it is also delivered — to the main session when `channel` is
 * absent or `last`, else to the named channel's `to` target.
 */
export interface CronDelivery {
  mode: 'none' | 'announce';
  channel?: string;
  to?: string;
  bestEffort?: boolean;
}

export type CronRunStatus = 'ok' | 'error' | 'skipped';
export type CronDeliveryStatus = NonNullable<CronEventPayload['deliveryStatus']>;

export interface CronJobState {
  nextRunAtMs?: number;
  /** Set while a run is in progress (never persisted). */
  runningAtMs?: number;
  lastRunAtMs?: number;
  lastRunStatus?: CronRunStatus;
  lastStatus?: CronRunStatus;
  lastError?: string;
  lastDurationMs?: number;
  consecutiveErrors?: number;
  lastDelivered?: boolean;
  lastDeliveryStatus?: CronDeliveryStatus;
}

export interface CronJob {
  id: string;
  agentId: string;
  name: string;
  description?: string;
  enabled: boolean;
  /** One-time jobs: remove the job after a successful run (default true for `at`). */
  deleteAfterRun?: boolean;
  createdAtMs: number;
  updatedAtMs: number;
  schedule: CronSchedule;
  sessionTarget: CronSessionTarget;
  wakeMode: 'now' | 'next-heartbeat';
  payload: CronPayload;
  delivery?: CronDelivery;
  state: CronJobState;
}

/** What cron.add accepts once validated (job-input.ts). */
export type CronJobCreate = Omit<CronJob, 'id' | 'agentId' | 'createdAtMs' | 'updatedAtMs' | 'state'>;

/** cron.update's patch once validated: any subset of the job's editable fields. */
export interface CronJobPatch {
  name?: string;
  description?: string;
  enabled?: boolean;
  deleteAfterRun?: boolean;
  schedule?: CronSchedule;
  sessionTarget?: CronSessionTarget;
  wakeMode?: 'now' | 'next-heartbeat';
  payload?: Partial<{ kind: CronPayload['kind']; text: string; message: string; timeoutSeconds: number }>;
  delivery?: Partial<CronDelivery>;
}

/** One line of a job's run log (OpenClaw's CronRunLogEntry). */
export interface CronRunLogEntry {
  ts: number;
  jobId: string;
  jobName?: string;
  action: 'finished';
  runId: string;
  status: CronRunStatus;
  error?: string;
  /** The reply, cut to RUN_SUMMARY_MAX_CHARS. */
  summary?: string;
  delivered?: boolean;
  deliveryStatus?: CronDeliveryStatus;
  deliveryError?: string;
  sessionKey?: string;
  runAtMs: number;
  durationMs: number;
  nextRunAtMs?: number;
}
