/**
 * Which runs of a transcript are still open, with the reply text each has
 * checkpointed. A user row with a runId opens its run; the run's terminal
 * assistant row (any stopReason but toolUse, or one that hands tool calls to
 * the client) closes it and drops its draft.
 * The parser and the store's appends share these steps, so the set kept in
 * memory and in index.json always equals a fresh parse of the file: crash
 * recovery finds every cut run without reading every session.
 */

import type { StoredMessage } from './types.js';

/** True when `message` ends its run (recovery and the store agree on this). */
export function closesRun(message: StoredMessage): boolean {
  if (message.role !== 'assistant' || message.runId === undefined) return false;
  return message.stopReason !== 'toolUse' || message.awaitsClientTools === true;
}

/** Open runs of one session, in opening order, each with its draft text. */
export class OpenRuns {
  /**
   * runId → text checkpointed so far, as the pieces it was given: they are the
   * streamed deltas the run holds anyway, so a long draft costs no copy.
   */
  readonly #drafts = new Map<string, string[]>();

  constructor(runIds: Iterable<string> = []) {
    for (const runId of runIds) this.#drafts.set(runId, []);
  }

  get size(): number {
    return this.#drafts.size;
  }

  ids(): string[] {
    return [...this.#drafts.keys()];
  }

  has(runId: string): boolean {
    return this.#drafts.has(runId);
  }

  /** Account for one message in append order. */
  note(message: StoredMessage): void {
    if (message.runId === undefined) return;
    if (message.role === 'user') {
      if (!this.#drafts.has(message.runId)) this.#drafts.set(message.runId, []);
    } else if (closesRun(message)) {
      this.#drafts.delete(message.runId);
    }
  }

  /** Add checkpointed text (one string or its pieces in order) to an open run; ignored once the run closed. */
  addDraft(runId: string, text: string | readonly string[]): void {
    const draft = this.#drafts.get(runId);
    if (draft === undefined) return;
    if (typeof text === 'string') draft.push(text);
    else for (const piece of text) draft.push(piece);
  }

  /** The text checkpointed for an open run ('' when none), undefined when it is not open. */
  draft(runId: string): string | undefined {
    return this.#drafts.get(runId)?.join('');
  }
}
