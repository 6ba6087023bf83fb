/** Where the scheduler keeps its files in the state directory. Import-free, so start-up can check cheaply. */

import { join } from 'node:path';

export const CRON_DIR_NAME = 'cron';
export const JOBS_FILE_NAME = 'jobs.json';

/** `<stateDir>/cron/jobs.json`: its existence decides whether the scheduler loads at start-up. */
export function jobsFilePath(stateDir: string): string {
  return join(stateDir, CRON_DIR_NAME, JOBS_FILE_NAME);
}
