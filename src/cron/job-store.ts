/**
 * The job file, `<stateDir>/cron/jobs.json`: every job with its schedule
 * state, rewritten atomically (temp file, fsync, rename) with mode 0600 on
 * every change. Rows that fail to parse are kept aside and written back
 * untouched, so a bad row never costs the others.
 */

import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrnoException, writeFileAtomic } from '../sessions/atomic-write.js';
import type { CronJob } from './cron-types.js';

import { CRON_DIR_NAME, JOBS_FILE_NAME } from './cron-paths.js';

export const JOB_FILE_VERSION = 1;

export interface JobStoreLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export class JobStore {
  readonly path: string;
  readonly #dir: string;
  readonly #logger: JobStoreLogger | undefined;
  /** Rows we could not read: written back as they were. */
  #unreadable: unknown[] = [];
  /** Serialises writes so an older snapshot never lands after a newer one. */
  #writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string, logger?: JobStoreLogger) {
    this.#dir = join(stateDir, CRON_DIR_NAME);
    this.path = join(this.#dir, JOBS_FILE_NAME);
    this.#logger = logger;
  }

  /** Read every job; a missing file is no jobs. An unreadable file is moved aside (never overwritten) and counts as none. */
  async load(): Promise<CronJob[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (isErrnoException(error) && error.code === 'ENOENT') return [];
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const rows = isRecord(parsed) && Array.isArray(parsed.jobs) ? (parsed.jobs as unknown[]) : undefined;
    if (rows === undefined) {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      await rename(this.path, aside);
      this.#logger?.warn('the cron job file was unreadable; moved it aside and started with no jobs', { path: aside });
      return [];
    }
    const jobs: CronJob[] = [];
    for (const row of rows) {
      if (isStoredJob(row)) jobs.push({ ...row, state: { ...row.state, runningAtMs: undefined } });
      else this.#unreadable.push(row);
    }
    if (this.#unreadable.length > 0) this.#logger?.warn('kept unreadable cron job rows aside', { rows: this.#unreadable.length, path: this.path });
    return jobs;
  }

  /** Replace the file with these jobs; resolves once it is on disk. */
  save(jobs: readonly CronJob[]): Promise<void> {
    const body = `${JSON.stringify({ version: JOB_FILE_VERSION, jobs: [...jobs.map(persistable), ...this.#unreadable] }, null, 2)}\n`;
    const write = this.#writing.then(async () => {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.path, body);
    });
    this.#writing = write.catch(() => undefined);
    return write;
  }
}

/** The job without in-memory-only state. */
function persistable(job: CronJob): CronJob {
  const { runningAtMs: _running, ...state } = job.state;
  return { ...job, state };
}

function isStoredJob(row: unknown): row is CronJob {
  if (!isRecord(row)) return false;
  const schedule = row.schedule;
  const payload = row.payload;
  return (
    typeof row.id === 'string' &&
    row.id !== '' &&
    typeof row.name === 'string' &&
    typeof row.enabled === 'boolean' &&
    typeof row.createdAtMs === 'number' &&
    typeof row.sessionTarget === 'string' &&
    isRecord(schedule) &&
    ((schedule.kind === 'at' && typeof schedule.at === 'string' && Number.isFinite(Date.parse(schedule.at))) ||
      (schedule.kind === 'every' && Number.isInteger(schedule.everyMs) && (schedule.everyMs as number) >= 1) ||
      (schedule.kind === 'cron' && typeof schedule.expr === 'string')) &&
    isRecord(payload) &&
    ((payload.kind === 'agentTurn' && typeof payload.message === 'string') || (payload.kind === 'systemEvent' && typeof payload.text === 'string')) &&
    isRecord(row.state)
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
