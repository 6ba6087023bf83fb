/**
 * Imported first by the CLI entry, so SIGTERM and SIGINT never kill the
 * process by default while it starts (issue 13, item 10). Signals are held
 * until a command takes them (the gateway drains on them) or hands them back
 * (the other commands keep the default of dying by the signal).
 */

import { EventEmitter } from 'node:events';

type ShutdownSignal = 'SIGTERM' | 'SIGINT';

const GUARDED_SIGNALS: readonly ShutdownSignal[] = ['SIGTERM', 'SIGINT'];
/** 128 + signal number, the shell convention for "killed by signal". */
const SIGNAL_EXIT_CODES: Record<ShutdownSignal, number> = { SIGINT: 130, SIGTERM: 143 };

const held: ShutdownSignal[] = [];
let taker: EventEmitter | undefined;
let released = false;

for (const signal of GUARDED_SIGNALS) process.on(signal, processOnSignal);

/**
 * Route every shutdown signal, including those held since start, to the
 * returned emitter. Held ones are replayed on the next turn, once the caller
 * has attached its listeners.
 */
export function takeShutdownSignals(): Pick<EventEmitter, 'on' | 'off'> {
  const emitter = new EventEmitter();
  taker = emitter;
  setImmediate(() => {
    for (const signal of held.splice(0)) emitter.emit(signal);
  });
  return emitter;
}

/** Give the signals back to Node's default (die by the signal); a held one is re-raised now. */
export function releaseShutdownSignals(): void {
  if (released) return;
  released = true;
  for (const signal of GUARDED_SIGNALS) process.off(signal, processOnSignal);
  const first = held.shift();
  if (first !== undefined) process.kill(process.pid, first);
}

function processOnSignal(signal: ShutdownSignal): void {
  if (taker !== undefined) {
    taker.emit(signal);
    return;
  }
  // A second signal before any command took them: the operator insists.
  if (held.length > 0) process.exit(SIGNAL_EXIT_CODES[signal]);
  held.push(signal);
}
