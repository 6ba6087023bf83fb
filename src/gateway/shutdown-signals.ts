/**
 * SIGTERM/SIGINT handling for the gateway process: the first signal starts a
 * drain and exits 0 when it ends; a second signal exits at once.
 */

import type { Logger } from '../util/logger.js';

export const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** Extra time past the drain budget before the process is forced out. */
export const HARD_EXIT_GRACE_MS = 2_000;
/** 128 + signal number, the shell convention for "killed by signal". */
const SIGNAL_EXIT_CODES: Record<(typeof SHUTDOWN_SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143 };

export interface ShutdownSignalOptions {
  /** Start the drain; resolves when it is over. */
  drain: (reason: string) => Promise<void>;
  /** The drain budget, ms; past it plus HARD_EXIT_GRACE_MS the process exits with 1. */
  drainTimeoutMs: number;
  logger: Logger;
  /** Default: process.exit. */
  exit?: (code: number) => void;
  /** Where signals are heard. Default: process. */
  target?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
}

/** Install the handlers. Returns a function that removes them. */
export function handleShutdownSignals(options: ShutdownSignalOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const target = options.target ?? process;
  let draining = false;
  let hardExitTimer: NodeJS.Timeout | undefined;

  const onSignal = (signal: (typeof SHUTDOWN_SIGNALS)[number]): void => {
    if (draining) {
      options.logger.warn('second signal, exiting now', { signal });
      exit(SIGNAL_EXIT_CODES[signal]);
      return;
    }
    draining = true;
    options.logger.info('shutdown requested', { signal });
    hardExitTimer = setTimeout(() => {
      options.logger.error('drain did not finish in time, exiting', { budgetMs: options.drainTimeoutMs });
      exit(1);
    }, options.drainTimeoutMs + HARD_EXIT_GRACE_MS);
    hardExitTimer.unref();
    options.drain(signal).then(
      () => {
        clearTimeout(hardExitTimer);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(hardExitTimer);
        options.logger.error('drain failed', { err: error });
        exit(1);
      },
    );
  };

  const listeners = SHUTDOWN_SIGNALS.map((signal) => {
    const listener = (): void => onSignal(signal);
    target.on(signal, listener);
    return { signal, listener };
  });
  return () => {
    clearTimeout(hardExitTimer);
    for (const { signal, listener } of listeners) target.off(signal, listener);
  };
}
