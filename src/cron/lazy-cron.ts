/**
 * The scheduler behind a handle that imports and starts it on first use, so
 * a gateway without cron jobs loads neither it nor croner at start-up.
 * main.ts starts it at once only when the job file exists.
 */

import type { CronService, CronServiceDeps } from './cron-service.js';

export interface CronHandle {
  /** The running scheduler; the first call loads and starts it. Rejects if it cannot start (then retries on the next call). */
  get(): Promise<CronService>;
  /** True once get() has started the scheduler. */
  readonly started: boolean;
  /** Stop firing jobs and let runs in progress finish (bounded); a never-started scheduler has nothing to stop. */
  stop(budgetMs?: number): Promise<void>;
}

/** A handle over a scheduler built from `deps()` when first needed. */
export function createLazyCron(deps: () => CronServiceDeps): CronHandle {
  let starting: Promise<CronService> | undefined;
  let service: CronService | undefined;
  let stopped = false;
  return {
    get() {
      if (stopped) return Promise.reject(new Error('the scheduler has stopped'));
      starting ??= import('./cron-service.js')
        .then(({ CronService: Service }) => Service.start(deps()))
        .then((started) => (service = started))
        .catch((error: unknown) => {
          starting = undefined;
          throw error;
        });
      return starting;
    },
    get started() {
      return service !== undefined;
    },
    async stop(budgetMs) {
      stopped = true;
      const running = service ?? (starting === undefined ? undefined : await starting.catch(() => undefined));
      await running?.stop(budgetMs);
    },
  };
}
