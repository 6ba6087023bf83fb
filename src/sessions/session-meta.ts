/**
 * SessionMeta as a fold over a session's records. The parser (rebuild from
 * disk) and the store (live appends) share these steps, so an index rebuilt
 * from the files always equals the one kept in memory.
 */

import type { SessionMeta, StoredMessage } from './types.js';
import type { SessionHeaderRecord } from './session-records.js';
import { parseSessionKey } from './session-key.js';

/** Longest derived title, in characters (code points). */
export const MAX_DERIVED_TITLE_CHARS = 60;

/** Meta of a session that has its header and nothing else. */
export function createSessionMeta(header: SessionHeaderRecord): SessionMeta {
  return {
    key: header.key,
    agentId: parseSessionKey(header.key).agentId,
    sessionId: header.sessionId,
    label: null,
    derivedTitle: null,
    createdAt: header.createdAt,
    updatedAt: header.createdAt,
    messageCount: 0,
    inputTokens: 0,
    outputTokens: 0,
    totalTokens: 0,
    lastRunId: null,
  };
}

/** Account for one appended message, written at `at` (epoch ms). Mutates `meta`. */
export function applyMessageToMeta(meta: SessionMeta, message: StoredMessage, at: number): void {
  meta.messageCount += 1;
  meta.updatedAt = Math.max(meta.updatedAt, at);
  if (message.runId !== undefined) meta.lastRunId = message.runId;
  if (message.role === 'assistant' && message.usage) {
    meta.inputTokens += message.usage.input;
    meta.outputTokens += message.usage.output;
    meta.totalTokens += message.usage.totalTokens;
  }
  if (meta.derivedTitle === null && message.role === 'user') meta.derivedTitle = deriveTitle(message);
}

/** Apply a meta record (label and/or model) written at `at`. Mutates `meta`. */
export function applyMetaRecord(meta: SessionMeta, record: { at: number; label?: string | null; model?: string | null }): void {
  if (record.label !== undefined) meta.label = record.label;
  if (record.model === null) delete meta.model;
  else if (record.model !== undefined) meta.model = record.model;
  meta.updatedAt = Math.max(meta.updatedAt, record.at);
}

/** First text of a user message, whitespace collapsed, at most 60 characters; null when it has no text. */
export function deriveTitle(message: StoredMessage): string | null {
  for (const block of message.content) {
    if (block.type !== 'text') continue;
    const text = block.text.replace(/\s+/g, ' ').trim();
    if (text.length === 0) continue;
    // Slice by code points so a title never ends in half a surrogate pair.
    return Array.from(text).slice(0, MAX_DERIVED_TITLE_CHARS).join('');
  }
  return null;
}
