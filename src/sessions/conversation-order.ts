/**
 * The order history is read in: each run's rows follow its own user message.
 * Files keep append order, so a second send acknowledged while the first run
 * still streams is stored before that run's reply (Q1 Q2 A1 A2); readers get
 * Q1 A1 Q2 A2 (issue 13, item 9). The parser and the store's appends share
 * this step, so memory always equals a fresh read of the file.
 */

import type { StoredMessage } from './types.js';

/**
 * Add `message` to `messages` (already in conversation order): a row of a
 * run goes right after the newest row of that run, anything else at the
 * end. Mutates `messages`; returns the index it was put at.
 */
export function placeInConversation(messages: StoredMessage[], message: StoredMessage): number {
  const runId = message.runId;
  if (message.role !== 'user' && runId !== undefined) {
    for (let i = messages.length - 1; i >= 0; i--) {
      if (messages[i]?.runId !== runId) continue;
      messages.splice(i + 1, 0, message);
      return i + 1;
    }
  }
  messages.push(message);
  return messages.length - 1;
}
