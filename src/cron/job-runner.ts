/**
 * Runs one job once: resolve its session, run the agent turn, deliver the
 * reply. Never throws; every failure becomes an `error` outcome the
 * scheduler records in the run log.
 */

import type { CronDeliveryStatus, CronJob, CronRunStatus } from './cron-types.js';
import type { DeliveryRouter } from './delivery.js';
import type { SessionTurns } from './session-turns.js';

export interface RunOutcome {
  status: CronRunStatus;
  error?: string;
  summary?: string;
  sessionKey?: string;
  delivered?: boolean;
  deliveryStatus: CronDeliveryStatus;
  deliveryError?: string;
}

export interface JobRunnerDeps {
  turns: SessionTurns;
  delivery: DeliveryRouter;
  mainSessionKey: string;
}

/** The session an isolated job runs in; its transcript starts afresh each run. */
export function isolatedSessionKey(jobId: string): string {
  return `agent:main:cron:${jobId.toLowerCase()}`;
}

/** Run `job` (a snapshot taken when the run started) under `runId`. */
export async function runJob(job: CronJob, runId: string, deps: JobRunnerDeps): Promise<RunOutcome> {
  const sessionKey = sessionOf(job, deps.mainSessionKey);
  const text = job.payload.kind === 'agentTurn' ? job.payload.message : job.payload.text;
  const timeoutSeconds = job.payload.kind === 'agentTurn' ? job.payload.timeoutSeconds : undefined;
  try {
    if (job.sessionTarget.startsWith('session:') && !deps.turns.sessionExists(sessionKey)) {
      return { status: 'skipped', error: `session not found: ${sessionKey}`, sessionKey, deliveryStatus: 'not-delivered', delivered: false };
    }
    if (job.sessionTarget === 'isolated') await deps.turns.resetSession(sessionKey);
    const turn = await deps.turns.runTurn({
      sessionKey,
      text,
      runId,
      ...(timeoutSeconds === undefined || timeoutSeconds === 0 ? {} : { timeoutMs: timeoutSeconds * 1000 }),
    });
    if (turn.status !== 'ok') {
      return { status: 'error', error: turn.error ?? `run ${turn.status}`, summary: turn.text || undefined, sessionKey, deliveryStatus: 'not-delivered', delivered: false };
    }
    const delivery = await deps.delivery.deliver({ delivery: job.delivery, text: turn.text, runSessionKey: sessionKey, jobId: job.id, jobName: job.name });
    const outcome: RunOutcome = { status: 'ok', summary: turn.text, sessionKey, deliveryStatus: delivery.status };
    if (delivery.delivered !== undefined) outcome.delivered = delivery.delivered;
    if (delivery.error !== undefined) outcome.deliveryError = delivery.error;
    return outcome;
  } catch (error) {
    return { status: 'error', error: error instanceof Error ? error.message : String(error), sessionKey, deliveryStatus: 'not-delivered', delivered: false };
  }
}

function sessionOf(job: CronJob, mainSessionKey: string): string {
  if (job.sessionTarget === 'main') return mainSessionKey;
  if (job.sessionTarget === 'isolated') return isolatedSessionKey(job.id);
  return job.sessionTarget.slice('session:'.length);
}
