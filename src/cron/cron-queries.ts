/**
 * cron.list and cron.runs paging, filtering and sorting, with OpenClaw's
 * page shape `{ …, total, offset, limit, hasMore, nextOffset }`.
 */

import type { CronJob, CronRunLogEntry } from './cron-types.js';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

export interface JobListQuery {
  /** Include disabled jobs (default false) — unless `enabled` says otherwise. */
  includeDisabled?: boolean;
  enabled?: 'all' | 'enabled' | 'disabled';
  query?: string;
  sortBy?: 'nextRunAtMs' | 'updatedAtMs' | 'name';
  sortDir?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  /** Summary rows (the Control UI's list) instead of whole jobs. */
  compact?: boolean;
}

export interface JobListPage {
  jobs: unknown[];
  total: number;
  offset: number;
  limit: number;
  hasMore: boolean;
  nextOffset: number | null;
}

export interface RunsQuery {
  jobId?: string;
  runId?: string;
  statuses?: readonly ('ok' | 'error' | 'skipped')[];
  deliveryStatuses?: readonly string[];
  query?: string;
  sortDir?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface RunsPage {
  entries: CronRunLogEntry[];
  total: number;
  offset: number;
  limit: number;
  hasMore: boolean;
  nextOffset: number | null;
}

/** Filter, sort and page jobs. */
export function listJobs(jobs: CronJob[], query: JobListQuery): JobListPage {
  const enabled = query.enabled ?? (query.includeDisabled === true ? 'all' : 'enabled');
  const needle = query.query?.trim().toLowerCase();
  const matching = jobs.filter((job) => {
    if (enabled === 'enabled' && !job.enabled) return false;
    if (enabled === 'disabled' && job.enabled) return false;
    if (needle !== undefined && needle !== '') {
      const haystack = [job.id, job.name, job.description ?? '', job.payload.kind === 'agentTurn' ? job.payload.message : job.payload.text].join('\n').toLowerCase();
      if (!haystack.includes(needle)) return false;
    }
    return true;
  });
  const direction = query.sortDir === 'desc' ? -1 : 1;
  const sortBy = query.sortBy ?? 'nextRunAtMs';
  matching.sort((a, b) => direction * compareJobs(a, b, sortBy));
  const { offset, limit, page, hasMore } = paginate(matching, query.offset, query.limit);
  return {
    jobs: query.compact === true ? page.map(compactJob) : page,
    total: matching.length,
    offset,
    limit,
    hasMore,
    nextOffset: hasMore ? offset + page.length : null,
  };
}

/** Filter, sort (newest first by default) and page run log entries. */
export function pageRuns(entries: CronRunLogEntry[], query: RunsQuery): RunsPage {
  const needle = query.query?.trim().toLowerCase();
  const matching = entries.filter((entry) => {
    if (query.runId !== undefined && entry.runId !== query.runId) return false;
    if (query.statuses !== undefined && !query.statuses.includes(entry.status)) return false;
    if (query.deliveryStatuses !== undefined && !query.deliveryStatuses.includes(entry.deliveryStatus ?? 'not-requested')) return false;
    if (needle !== undefined && needle !== '') {
      const haystack = [entry.jobName ?? '', entry.summary ?? '', entry.error ?? ''].join('\n').toLowerCase();
      if (!haystack.includes(needle)) return false;
    }
    return true;
  });
  const direction = query.sortDir === 'asc' ? 1 : -1;
  matching.sort((a, b) => direction * (a.ts - b.ts));
  const { offset, limit, page, hasMore } = paginate(matching, query.offset, query.limit);
  return { entries: page, total: matching.length, offset, limit, hasMore, nextOffset: hasMore ? offset + page.length : null };
}

function paginate<T>(items: T[], rawOffset: number | undefined, rawLimit: number | undefined) {
  const offset = Math.max(0, rawOffset ?? 0);
  const limit = Math.min(Math.max(1, rawLimit ?? DEFAULT_PAGE_LIMIT), MAX_PAGE_LIMIT);
  const page = items.slice(offset, offset + limit);
  return { offset, limit, page, hasMore: offset + page.length < items.length };
}

function compareJobs(a: CronJob, b: CronJob, sortBy: NonNullable<JobListQuery['sortBy']>): number {
  if (sortBy === 'name') return a.name.localeCompare(b.name);
  if (sortBy === 'updatedAtMs') return a.updatedAtMs - b.updatedAtMs;
  // Jobs with no next run (disabled, finished) sort last either way round.
  return (a.state.nextRunAtMs ?? Number.MAX_SAFE_INTEGER) - (b.state.nextRunAtMs ?? Number.MAX_SAFE_INTEGER);
}

/** The summary row OpenClaw's Control UI asks for with `compact: true`. */
function compactJob(job: CronJob): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: job.id,
    name: job.name,
    agentId: job.agentId,
    updatedAtMs: job.updatedAtMs,
    enabled: job.enabled,
    nextRunAt: iso(job.state.nextRunAtMs),
    nextRunAtMs: job.state.nextRunAtMs ?? null,
    scheduleKind: job.schedule.kind,
    schedule: job.schedule,
    lastRunAt: iso(job.state.lastRunAtMs),
    lastRunAtMs: job.state.lastRunAtMs ?? null,
    lastRunStatus: job.state.lastRunStatus ?? null,
    lastRunError: job.state.lastError ?? null,
    effectiveAgentId: job.agentId,
  };
}
