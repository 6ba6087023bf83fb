/**
 * The page of messages chat.history and chat.startup answer with: the newest
 * messages shaped for the wire and fitted under the client's `maxBytes` and
 * the frame limit, with `hasMore` when older ones stay behind.
 */

import type { Assistant } from '../../assistant/types.js';
import { byteLength, fitHistoryPage } from './history-page.js';
import { shapeMessage } from './message-shape.js';

/** Room kept for the res envelope around the history payload (id ≤ 256 chars plus framing), bytes. */
export const RES_ENVELOPE_BYTES = 1024;
/** `,"messages":`, `,"hasMore":false` and commas around the history payload, bytes. */
const HAS_MORE_BYTES = 48;

export interface HistoryPayloadOptions {
  /** Newest messages read at most. */
  limit: number;
  /** Cut every text and thinking block to this many characters. */
  maxChars?: number;
  /** The client's page target, bytes (capped by the frame limit). */
  maxBytes?: number;
  /** policy.maxPayload: the whole res must fit, bytes. */
  maxPayloadBytes: number;
  /** Further fields of the answer; they count against the frame limit before any message does. */
  extra?: Record<string, unknown>;
}

/** `{sessionKey, sessionId?, totalMessages, …extra, messages, hasMore}` for one session. */
export async function buildHistoryPayload(assistant: Assistant, sessionKey: string, options: HistoryPayloadOptions): Promise<Record<string, unknown>> {
  const page = await assistant.history(sessionKey, { limit: options.limit });
  const first = page.totalMessages - page.messages.length + 1;
  const messages = page.messages.map((m, i) => shapeMessage(m, { seq: first + i, maxChars: options.maxChars }));
  const payload: Record<string, unknown> = { sessionKey };
  if (page.sessionId !== undefined) payload.sessionId = page.sessionId;
  payload.totalMessages = page.totalMessages;
  Object.assign(payload, options.extra);
  const hardBytes = options.maxPayloadBytes - RES_ENVELOPE_BYTES - byteLength(payload) - HAS_MORE_BYTES;
  const fitted = fitHistoryPage(messages, Math.min(options.maxBytes ?? hardBytes, hardBytes), hardBytes);
  payload.messages = fitted;
  payload.hasMore = page.hasMore || fitted.length < messages.length;
  return payload;
}
