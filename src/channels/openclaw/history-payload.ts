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
/** `,"messages":`, `,"hasMore":false`, `,"nextOffset":…` and commas around the history payload, bytes. */
const HAS_MORE_BYTES = 72;

export interface HistoryPayloadOptions {
  /** Newest messages read at most. */
  limit: number;
  /** Newest messages to skip: the `nextOffset` of the page before (default 0). */
  offset?: number;
  /** Cut every text and thinking block to this many characters. */
  maxChars?: number;
  /** The client's page target, bytes (capped by the frame limit). */
  maxBytes?: number;
  /** policy.maxPayload: the whole res must fit, bytes. */
  maxPayloadBytes: number;
  /** Further fields of the answer; they count against the frame limit before any message does. */
  extra?: Record<string, unknown>;
}

/**
 * `{sessionKey, sessionId?, totalMessages, …extra, messages, hasMore, nextOffset?}` for one session.
 * `nextOffset` (present when `hasMore`) counts the newest messages this page and the ones after it
 * hold; passed back as `offset`, it asks for the page before (the Control UI's "load older").
 */
export async function buildHistoryPayload(assistant: Assistant, sessionKey: string, options: HistoryPayloadOptions): Promise<Record<string, unknown>> {
  const offset = options.offset ?? 0;
  const page = await assistant.history(sessionKey, { limit: options.limit + offset });
  const first = page.totalMessages - page.messages.length + 1;
  const kept = page.messages.slice(0, Math.max(0, page.messages.length - offset));
  const messages = kept.map((m, i) => shapeMessage(m, { seq: first + i, maxChars: options.maxChars }));
  const payload: Record<string, unknown> = { sessionKey };
  if (page.sessionId !== undefined) payload.sessionId = page.sessionId;
  payload.totalMessages = page.totalMessages;
  Object.assign(payload, options.extra);
  const hardBytes = options.maxPayloadBytes - RES_ENVELOPE_BYTES - byteLength(payload) - HAS_MORE_BYTES;
  const fitted = fitHistoryPage(messages, Math.min(options.maxBytes ?? hardBytes, hardBytes), hardBytes);
  payload.messages = fitted;
  payload.hasMore = page.hasMore || fitted.length < messages.length;
  if (payload.hasMore === true) payload.nextOffset = offset + fitted.length;
  return payload;
}
