/**
 * Which runs of a transcript are still open. A user row with a runId opens
 * its run; the run's terminal assistant row (any stopReason but toolUse)
 * closes it. The parser and the store's appends share this step, so the set
 * kept in memory and in index.json always equals a fresh parse of the file:
 * crash recovery finds every cut run without reading every session.
 */

import type { StoredMessage } from './types.js';

/** Account for one message in append order. Mutates `open`. */
export function trackOpenRuns(open: Set<string>, message: StoredMessage): void {
  if (message.runId === undefined) return;
  if (message.role === 'user') open.add(message.runId);
  else if (message.role === 'assistant' && message.stopReason !== 'toolUse') open.delete(message.runId);
}

/** True when `message` ends its run (recovery and the store agree on this). */
export function closesRun(message: StoredMessage): boolean {
  return message.role === 'assistant' && message.runId !== undefined && message.stopReason !== 'toolUse';
}
