/**
 * The scheduler: keeps the jobs (job-store.ts), fires each when due on one
 * timer, runs it (job-runner.ts) without overlapping itself and within
 * agent.maxConcurrentRuns, records the run (run-log.ts) and announces every
 * change as a `cron` event. Loaded on demand (lazy-cron.ts).
 */

import { randomUUID } from 'node:crypto';
import type { CronEventPayload, SchedulerEvent } from '../bus/scheduler-events.js';
import { GatewayError } from '../protocol/errors.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import type { CronJob, CronRunLogEntry } from './cron-types.js';
import type { DeliveryRouter } from './delivery.js';
import { applyJobPatch, parseJobCreate, type JobInputContext } from './job-input.js';
import { runJob, type RunOutcome } from './job-runner.js';
import { applyRunResult } from './job-state.js';
import { JobStore } from './job-store.js';
import { RUN_SUMMARY_MAX_CHARS, RunLog } from './run-log.js';
import { loadCronEngine, nextRunAfter, type CronEngine } from './schedule.js';
import type { SessionTurns } from './session-turns.js';
import { listJobs, pageRuns, type JobListQuery, type JobListPage, type RunsPage, type RunsQuery } from './cron-queries.js';

/** Longest single timer; the scheduler re-checks at least this often (clock jumps, suspend), ms. */
export const MAX_TIMER_DELAY_MS = 60_000;

export interface CronLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface CronServiceOptions {
  /** cron.enabled: false stores jobs but never fires them on schedule. */
  enabled: boolean;
  /** cron.skipMissedJobs: recurring slots missed while down are skipped, not run once. */
  skipMissedJobs: boolean;
  /** agent.maxConcurrentRuns: jobs running at the same time. */
  maxConcurrentRuns: number;
}

export interface CronServiceDeps {
  stateDir: string;
  turns: SessionTurns;
  delivery: DeliveryRouter;
  mainSessionKey: string;
  /** Raw session key → canonical; throws GatewayError for a bad key. */
  canonicalize(raw: string): string;
  publish(event: SchedulerEvent): void;
  options: CronServiceOptions;
  clock?: Clock;
  logger?: CronLogger;
}

/** Who is adding or changing a job: the tool passes the session it runs in. */
export interface MutationContext {
  label: string;
  currentSessionKey?: string;
}

export type RunNowResult = { ok: true; enqueued: true; runId: string } | { ok: true; ran: false; reason: 'already-running' | 'not-due' };

interface LiveRun {
  runId: string;
  startedAt: number;
  done: Promise<void>;
}

export class CronService {
  readonly #deps: CronServiceDeps;
  readonly #clock: Clock;
  readonly #engine: CronEngine;
  readonly #store: JobStore;
  readonly #runLog: RunLog;
  readonly #jobs = new Map<string, CronJob>();
  readonly #running = new Map<string, LiveRun>();
  /** Bookkeeping of runs that have ended, in progress. */
  readonly #recording = new Set<Promise<void>>();
  /** Manual runs waiting for a free slot, in request order. */
  #queued: { jobId: string; runId: string }[] = [];
  #timer: TimerHandle | undefined;
  #stopped = false;

  private constructor(deps: CronServiceDeps, engine: CronEngine) {
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#engine = engine;
    this.#store = new JobStore(deps.stateDir, deps.logger);
    this.#runLog = new RunLog(deps.stateDir);
  }

  /** Load the jobs, apply the catch-up rule to those missed while down, and arm the timer. */
  static async start(deps: CronServiceDeps): Promise<CronService> {
    const service = new CronService(deps, await loadCronEngine());
    await service.#load();
    return service;
  }

  get storePath(): string {
    return this.#store.path;
  }

  getJob(id: string): CronJob | undefined {
    const job = this.#jobs.get(id);
    return job === undefined ? undefined : this.#view(job);
  }

  list(query: JobListQuery): JobListPage {
    return listJobs([...this.#jobs.values()].map((job) => this.#view(job)), query);
  }

  status(): { enabled: boolean; storePath: string; storage: 'file'; jobs: number; nextWakeAtMs: number | null } {
    return {
      enabled: this.#deps.options.enabled,
      storePath: this.#store.path,
      storage: 'file',
      jobs: this.#jobs.size,
      nextWakeAtMs: this.#nextWakeAt() ?? null,
    };
  }

  async runs(query: RunsQuery): Promise<RunsPage> {
    const entries = await this.#runLog.read(query.jobId);
    return pageRuns(entries, query);
  }

  /** Validate and store a new job; resolves once it is on disk. Throws GatewayError on bad input. */
  async add(raw: unknown, context: MutationContext): Promise<CronJob> {
    const input = parseJobCreate(raw, this.#inputContext(context));
    const now = this.#clock.now();
    const job: CronJob = { ...input, id: randomUUID(), agentId: 'main', createdAtMs: now, updatedAtMs: now, state: {} };
    job.state.nextRunAtMs = job.enabled ? this.#nextAfter(job, now) : undefined;
    this.#jobs.set(job.id, job);
    try {
      await this.#persist();
    } catch (error) {
      this.#jobs.delete(job.id);
      throw storageError(error);
    }
    this.#emit({ jobId: job.id, action: 'added', nextRunAtMs: job.state.nextRunAtMs });
    this.#arm();
    return this.#view(job);
  }

  /** Patch a job; a run in progress finishes with the job as it was when it started. */
  async update(id: string, rawPatch: unknown, context: MutationContext): Promise<CronJob> {
    const current = this.#requireJob(id, context.label);
    const { job: next, patch } = applyJobPatch(current, rawPatch, this.#inputContext(context));
    const now = this.#clock.now();
    next.updatedAtMs = now;
    if (!next.enabled) next.state.nextRunAtMs = undefined;
    else if (patch.schedule !== undefined || patch.enabled === true || next.state.nextRunAtMs === undefined) {
      next.state.nextRunAtMs = this.#nextAfter(next, now);
    }
    if (patch.enabled === true) next.state.consecutiveErrors = 0;
    this.#jobs.set(id, next);
    try {
      await this.#persist();
    } catch (error) {
      this.#jobs.set(id, current);
      throw storageError(error);
    }
    this.#emit({ jobId: id, action: 'updated', nextRunAtMs: next.state.nextRunAtMs });
    this.#arm();
    return this.#view(next);
  }

  /** Remove a job. A run in progress goes on to its end; its result is then dropped with the job. */
  async remove(id: string): Promise<{ ok: true; removed: boolean }> {
    const job = this.#jobs.get(id);
    if (job === undefined) return { ok: true, removed: false };
    this.#jobs.delete(id);
    this.#queued = this.#queued.filter((entry) => entry.jobId !== id);
    try {
      await this.#persist();
    } catch (error) {
      this.#jobs.set(id, job);
      throw storageError(error);
    }
    await this.#runLog.remove(id).catch((error: unknown) => this.#deps.logger?.warn('could not delete a cron run log', { jobId: id, err: String(error) }));
    this.#emit({ jobId: id, action: 'removed' });
    this.#arm();
    return { ok: true, removed: true };
  }

  /** Run a job now (`force`, the default) or only when due (`due`); answers at once with the runId. */
  run(id: string, mode: 'due' | 'force' = 'force', label = 'invalid cron.run params'): RunNowResult {
    const job = this.#requireJob(id, label);
    if (this.#running.has(id) || this.#queued.some((entry) => entry.jobId === id)) return { ok: true, ran: false, reason: 'already-running' };
    const now = this.#clock.now();
    if (mode === 'due' && !(job.enabled && job.state.nextRunAtMs !== undefined && job.state.nextRunAtMs <= now)) {
      return { ok: true, ran: false, reason: 'not-due' };
    }
    const runId = randomUUID();
    this.#queued.push({ jobId: id, runId });
    this.#pump();
    return { ok: true, enqueued: true, runId };
  }

  /** Stop firing jobs and wait up to `budgetMs` for runs in progress to finish their bookkeeping. */
  async stop(budgetMs = 5_000): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#queued = [];
    const pending = [...this.#running.values()].map((run) => run.done);
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(pending), new Promise((resolve) => (timer = setTimeout(resolve, budgetMs)))]);
    clearTimeout(timer);
  }

  /** Resolves once every run that has ended is recorded (its job, log and events written). */
  async settled(): Promise<void> {
    while (this.#recording.size > 0) await Promise.all([...this.#recording]);
  }

  /** Resolves when no job is running (tests and drain). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()].map((run) => run.done));
  }

  async #load(): Promise<void> {
    const now = this.#clock.now();
    let changed = false;
    for (const job of await this.#store.load()) {
      this.#jobs.set(job.id, job);
      if (!job.enabled) continue;
      if (job.schedule.kind === 'at' && job.state.lastStatus !== undefined) {
        // A one-time job that already finished never fires again, even if its disable was lost.
        job.enabled = false;
        job.state.nextRunAtMs = undefined;
        changed = true;
        continue;
      }
      const next = job.state.nextRunAtMs;
      if (next === undefined) {
        job.state.nextRunAtMs = this.#nextAfter(job, now);
        changed = true;
      } else if (next <= now && job.schedule.kind !== 'at' && this.#deps.options.skipMissedJobs) {
        job.state.nextRunAtMs = this.#nextAfter(job, now);
        changed = true;
      }
      // Otherwise a slot missed while the gateway was down stays due and runs once, now (OpenClaw's catch-up).
    }
    if (changed) await this.#persist();
    const missed = [...this.#jobs.values()].filter((job) => job.enabled && (job.state.nextRunAtMs ?? Infinity) <= now);
    if (missed.length > 0) this.#deps.logger?.info('running cron jobs missed while the gateway was down', { jobs: missed.map((job) => job.id) });
    this.#arm();
  }

  #inputContext(context: MutationContext): JobInputContext {
    return {
      now: this.#clock.now(),
      cron: this.#engine,
      canonicalize: this.#deps.canonicalize,
      sessionExists: (key) => this.#deps.turns.sessionExists(key),
      deliveryChannels: this.#deps.delivery.channels(),
      label: context.label,
      ...(context.currentSessionKey === undefined ? {} : { currentSessionKey: context.currentSessionKey }),
    };
  }

  /** Start due runs while slots are free: manual runs first, then scheduled ones by due time. */
  #pump(): void {
    if (this.#stopped) return;
    const max = this.#deps.options.maxConcurrentRuns;
    while (this.#running.size < max && this.#queued.length > 0) {
      const { jobId, runId } = this.#queued.shift() as { jobId: string; runId: string };
      const job = this.#jobs.get(jobId);
      if (job !== undefined && !this.#running.has(jobId)) this.#start(job, runId);
    }
    if (this.#deps.options.enabled) {
      const now = this.#clock.now();
      const due = [...this.#jobs.values()]
        .filter((job) => job.enabled && !this.#running.has(job.id) && (job.state.nextRunAtMs ?? Infinity) <= now)
        .sort((a, b) => (a.state.nextRunAtMs ?? 0) - (b.state.nextRunAtMs ?? 0));
      for (const job of due) {
        if (this.#running.size >= max) break;
        this.#start(job, randomUUID());
      }
    }
    this.#arm();
  }

  #start(job: CronJob, runId: string): void {
    const startedAt = this.#clock.now();
    job.state.runningAtMs = startedAt;
    const snapshot = structuredClone(job);
    const live: LiveRun = { runId, startedAt, done: Promise.resolve() };
    live.done = this.#execute(snapshot, live);
    this.#running.set(job.id, live);
    this.#emit({ jobId: job.id, action: 'started', runAtMs: startedAt, runId });
  }

  async #execute(snapshot: CronJob, live: LiveRun): Promise<void> {
    // Let #start register the run before anything in it can finish.
    await Promise.resolve();
    const outcome = await runJob(snapshot, live.runId, { turns: this.#deps.turns, delivery: this.#deps.delivery, mainSessionKey: this.#deps.mainSessionKey });
    const recording = this.#record(snapshot, live, outcome);
    this.#recording.add(recording);
    await recording;
    this.#recording.delete(recording);
  }

  async #record(snapshot: CronJob, live: LiveRun, outcome: RunOutcome): Promise<void> {
    try {
      await this.#finish(snapshot, live, outcome);
    } catch (error) {
      this.#deps.logger?.error('could not record a cron run', { jobId: snapshot.id, err: String(error) });
    } finally {
      this.#running.delete(snapshot.id);
      const job = this.#jobs.get(snapshot.id);
      if (job !== undefined) job.state.runningAtMs = undefined;
      this.#pump();
    }
  }

  async #finish(snapshot: CronJob, live: LiveRun, outcome: RunOutcome): Promise<void> {
    const endedAt = this.#clock.now();
    const durationMs = Math.max(0, endedAt - live.startedAt);
    const summary = outcome.summary === undefined ? undefined : outcome.summary.slice(0, RUN_SUMMARY_MAX_CHARS);
    const job = this.#jobs.get(snapshot.id);
    const base = {
      jobId: snapshot.id,
      runId: live.runId,
      runAtMs: live.startedAt,
      durationMs,
      status: outcome.status,
      deliveryStatus: outcome.deliveryStatus,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(summary === undefined ? {} : { summary }),
      ...(outcome.delivered === undefined ? {} : { delivered: outcome.delivered }),
      ...(outcome.deliveryError === undefined ? {} : { deliveryError: outcome.deliveryError }),
      ...(outcome.sessionKey === undefined ? {} : { sessionKey: outcome.sessionKey }),
    };
    if (job === undefined) {
      // Removed while running: the run ended cleanly, but there is no job left to update or log for.
      this.#emit({ ...base, action: 'finished' });
      return;
    }
    const deleted = applyRunResult(job, outcome, live.startedAt, endedAt, (afterMs) => this.#nextAfter(job, afterMs));
    if (deleted) this.#jobs.delete(job.id);
    await this.#persist();
    const entry: CronRunLogEntry = { ts: endedAt, jobName: job.name, action: 'finished', ...base };
    if (job.state.nextRunAtMs !== undefined) entry.nextRunAtMs = job.state.nextRunAtMs;
    if (!deleted) await this.#runLog.append(entry);
    this.#emit({ ...base, action: 'finished', ...(job.state.nextRunAtMs === undefined ? {} : { nextRunAtMs: job.state.nextRunAtMs }) });
    if (deleted) {
      await this.#runLog.remove(job.id);
      this.#emit({ jobId: job.id, action: 'removed' });
    }
  }

  #nextAfter(job: CronJob, afterMs: number): number | undefined {
    if (job.schedule.kind === 'at') {
      const at = Date.parse(job.schedule.at);
      // A one-time job not run yet stays due even when its time has passed (it was missed, not done).
      return job.state.lastStatus === undefined ? at : undefined;
    }
    try {
      return nextRunAfter(job.schedule, afterMs, this.#engine, job.createdAtMs);
    } catch (error) {
      this.#deps.logger?.warn('cannot compute the next run of a cron job', { jobId: job.id, err: String(error) });
      return undefined;
    }
  }

  #nextWakeAt(): number | undefined {
    let next: number | undefined;
    for (const job of this.#jobs.values()) {
      const at = job.state.nextRunAtMs;
      if (job.enabled && !this.#running.has(job.id) && at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  #arm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#stopped || !this.#deps.options.enabled) return;
    const next = this.#nextWakeAt();
    if (next === undefined) return;
    const now = this.#clock.now();
    // Due jobs waiting for a free slot start when a run ends; a timer now would only spin.
    if (next <= now && this.#running.size >= this.#deps.options.maxConcurrentRuns) return;
    this.#timer = this.#clock.setTimer(() => this.#onTimer(), Math.min(Math.max(0, next - now), MAX_TIMER_DELAY_MS));
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#pump();
  }

  #persist(): Promise<void> {
    return this.#store.save([...this.#jobs.values()]);
  }

  #emit(payload: CronEventPayload): void {
    this.#deps.publish({ type: 'cron', payload });
  }

  #requireJob(id: string, label: string): CronJob {
    const job = this.#jobs.get(id);
    if (job === undefined) throw new GatewayError('INVALID_REQUEST', `${label}: unknown cron job id: ${id}`, { details: { field: 'id' } });
    return job;
  }

  /** A copy for callers, with runningAtMs while a run is in progress. */
  #view(job: CronJob): CronJob {
    const copy = structuredClone(job);
    const live = this.#running.get(job.id);
    if (live !== undefined) copy.state.runningAtMs = live.startedAt;
    else delete copy.state.runningAtMs;
    return copy;
  }
}

function storageError(error: unknown): GatewayError {
  return new GatewayError('UNAVAILABLE', 'could not save the cron job file; nothing was changed', { retryable: true, cause: error });
}
