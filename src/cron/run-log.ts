/**
 * The run log: one JSONL file per job, `<stateDir>/cron/runs/<jobId>.jsonl`,
 * one line per finished run. Bounded: past MAX_RUN_LOG_ENTRIES + slack lines
 * the file is rewritten (atomically) with the newest MAX_RUN_LOG_ENTRIES.
 */

import { appendFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE, isErrnoException, writeFileAtomic } from '../sessions/atomic-write.js';
import type { CronRunLogEntry } from './cron-types.js';
import { CRON_DIR_NAME } from './cron-paths.js';

/** Runs kept per job. */
export const MAX_RUN_LOG_ENTRIES = 200;
/** Lines allowed beyond the bound before the file is trimmed (amortises the rewrite). */
const TRIM_SLACK_ENTRIES = 50;
/** Longest run summary kept in the log and events, characters. */
export const RUN_SUMMARY_MAX_CHARS = 2_000;

export class RunLog {
  readonly #dir: string;
  /** Known line counts per job file, so appends know when to trim. */
  readonly #lines = new Map<string, number>();
  #queue: Promise<void> = Promise.resolve();

  constructor(stateDir: string) {
    this.#dir = join(stateDir, CRON_DIR_NAME, 'runs');
  }

  /** Append one entry (durably ordered per process), trimming the file when it grows past the bound. */
  append(entry: CronRunLogEntry): Promise<void> {
    return this.#serial(async () => {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 });
      const path = this.#pathOf(entry.jobId);
      let lines = this.#lines.get(entry.jobId) ?? (await this.#read(entry.jobId)).length;
      await appendFile(path, `${JSON.stringify(entry)}\n`, { mode: PRIVATE_FILE_MODE });
      lines += 1;
      if (lines > MAX_RUN_LOG_ENTRIES + TRIM_SLACK_ENTRIES) {
        const kept = (await this.#read(entry.jobId)).slice(-MAX_RUN_LOG_ENTRIES);
        await writeFileAtomic(path, kept.map((row) => `${JSON.stringify(row)}\n`).join(''));
        lines = kept.length;
      }
      this.#lines.set(entry.jobId, lines);
    });
  }

  /** Every entry of one job, oldest first, or of all jobs when jobId is undefined. */
  async read(jobId?: string): Promise<CronRunLogEntry[]> {
    await this.#queue;
    if (jobId !== undefined) return this.#read(jobId);
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (error) {
      if (isErrnoException(error) && error.code === 'ENOENT') return [];
      throw error;
    }
    const all = await Promise.all(names.filter((name) => name.endsWith('.jsonl')).map((name) => this.#read(name.slice(0, -'.jsonl'.length))));
    return all.flat().sort((a, b) => a.ts - b.ts);
  }

  /** Delete a job's log (the job was removed). */
  remove(jobId: string): Promise<void> {
    return this.#serial(async () => {
      this.#lines.delete(jobId);
      await rm(this.#pathOf(jobId), { force: true });
    });
  }

  async #read(jobId: string): Promise<CronRunLogEntry[]> {
    let text: string;
    try {
      text = await readFile(this.#pathOf(jobId), 'utf8');
    } catch (error) {
      if (isErrnoException(error) && error.code === 'ENOENT') return [];
      throw error;
    }
    const entries: CronRunLogEntry[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const row = JSON.parse(line) as unknown;
        if (typeof row === 'object' && row !== null && (row as CronRunLogEntry).jobId === jobId) entries.push(row as CronRunLogEntry);
      } catch {
        // A torn last line from a crash mid-append: skip it.
      }
    }
    return entries;
  }

  #pathOf(jobId: string): string {
    // Job ids are UUIDs we generate; never let one name a path elsewhere.
    if (!/^[A-Za-z0-9._-]+$/.test(jobId) || jobId.startsWith('.')) throw new RangeError(`invalid job id ${JSON.stringify(jobId)}`);
    return join(this.#dir, `${jobId}.jsonl`);
  }

  #serial(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
