/**
 * The lines of a session file: one JSON record per line, discriminated on
 * `type`. Line 1 is always the `session` header, and line 2 a copy of it, so
 * a garbled first line does not orphan the records (issue 13, item 5);
 * `message`, `meta` and `draft` records follow in append order. Every record
 * is validated on read.
 */

import * as v from 'valibot';
import { escapedSlices, jsonShell, lazyJsonPartsOf, reviveLongStrings } from '../util/json-parts.js';
import type { StoredMessage } from './types.js';

/** Format version written in every header. */
export const SESSION_FILE_VERSION = 1;

export interface SessionHeaderRecord {
  type: 'session';
  version: number;
  /** Canonical session key; the file name is its sha256. */
  key: string;
  sessionId: string;
  createdAt: number;
}

export interface MessageRecord {
  type: 'message';
  /** Epoch ms when the record was written. */
  at: number;
  message: StoredMessage;
}

/** A patch of session metadata; absent fields are unchanged, null clears. */
export interface MetaRecord {
  type: 'meta';
  at: number;
  label?: string | null;
  /** The session's model, `kind/model`. */
  model?: string | null;
}

/**
 * Text an open run streamed since its previous draft record: a checkpoint,
 * so a crash loses at most the last interval (issue 13, item 3). The row
 * that closes the run supersedes its drafts.
 */
export interface DraftRecord {
  type: 'draft';
  at: number;
  runId: string;
  text: string;
}

export type SessionRecord = SessionHeaderRecord | MessageRecord | MetaRecord | DraftRecord;

const epochMs = v.pipe(v.number(), v.finite());

const contentBlockSchema = v.variant('type', [
  v.object({ type: v.literal('text'), text: v.string() }),
  v.object({ type: v.literal('thinking'), thinking: v.string() }),
  v.object({
    type: v.literal('toolCall'),
    id: v.string(),
    name: v.string(),
    arguments: v.record(v.string(), v.unknown()),
  }),
  v.object({
    type: v.literal('image'),
    source: v.object({ type: v.literal('base64'), media_type: v.string(), data: v.string() }),
  }),
]);

const usageCostSchema = v.object({
  input: v.number(),
  output: v.number(),
  cacheRead: v.number(),
  cacheWrite: v.number(),
  total: v.number(),
});

const usageSchema = v.object({
  input: v.number(),
  output: v.number(),
  totalTokens: v.number(),
  cacheRead: v.optional(v.number()),
  cacheWrite: v.optional(v.number()),
  cost: v.optional(usageCostSchema),
});

/** Shape of a StoredMessage; exported for other backends and migrations. */
export const storedMessageSchema = v.object({
  id: v.pipe(v.string(), v.minLength(1)),
  role: v.picklist(['user', 'assistant', 'toolResult']),
  content: v.array(contentBlockSchema),
  timestamp: epochMs,
  runId: v.optional(v.string()),
  idempotencyKey: v.optional(v.string()),
  usage: v.optional(usageSchema),
  stopReason: v.optional(v.picklist(['stop', 'length', 'toolUse', 'aborted', 'error', 'interrupted'])),
  errorMessage: v.optional(v.string()),
  provider: v.optional(v.string()),
  model: v.optional(v.string()),
  toolCallId: v.optional(v.string()),
  toolName: v.optional(v.string()),
  isError: v.optional(v.boolean()),
  awaitsClientTools: v.optional(v.boolean()),
});

const headerSchema = v.object({
  type: v.literal('session'),
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  key: v.string(),
  sessionId: v.pipe(v.string(), v.minLength(1)),
  createdAt: epochMs,
});

const recordSchema = v.variant('type', [
  headerSchema,
  v.object({ type: v.literal('message'), at: epochMs, message: storedMessageSchema }),
  v.object({
    type: v.literal('meta'),
    at: epochMs,
    label: v.optional(v.nullable(v.string())),
    model: v.optional(v.nullable(v.string())),
  }),
  v.object({ type: v.literal('draft'), at: epochMs, runId: v.pipe(v.string(), v.minLength(1)), text: v.string() }),
]);

/** One record as a complete line (JSON never contains a raw newline). */
export function encodeRecord(record: SessionRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/**
 * A record as the parts of its line (newline included), with the record as a
 * reload will read it, so nothing is acknowledged that a reload would skip.
 * A huge text (a 10 MB reply) is checked without being copied: the returned
 * record shares it with `record`, and the line is never built, not even as
 * escaped parts: they are made a slice at a time as a writer iterates them.
 */
export function encodeCheckedRecord(record: SessionRecord): { ok: true; parts: Iterable<string>; record: SessionRecord } | { ok: false; reason: string } {
  const shell = jsonShell(record);
  const decoded = decodeRecord(shell.json, reviveLongStrings(shell));
  if (!decoded.ok) return decoded;
  const json = lazyJsonPartsOf(shell);
  const parts = Array.isArray(json) ? [...json, '\n'] : { *[Symbol.iterator]() { yield* json; yield '\n'; } };
  return { ok: true, parts, record: decoded.record };
}

/**
 * A draft record's line as parts, its text being `pieces` joined. The pieces
 * (the streamed deltas, which the run holds anyway) are escaped one by one as
 * a writer iterates the parts, so a checkpoint never copies the text it saves.
 */
export function encodeDraftRecord(
  at: number,
  runId: string,
  pieces: readonly string[],
): { ok: true; parts: Iterable<string> } | { ok: false; reason: string } {
  // The record without its text is checked as a reload reads it; the text is a string whatever the pieces hold.
  const line = encodeRecord({ type: 'draft', at, runId, text: '' });
  const checked = decodeRecord(line.slice(0, -1));
  if (!checked.ok) return checked;
  const textAt = line.lastIndexOf('""');
  const parts = {
    *[Symbol.iterator]() {
      yield line.slice(0, textAt + 1);
      for (const piece of pieces) yield* escapedSlices(piece);
      yield line.slice(textAt + 1);
    },
  };
  return { ok: true, parts };
}

/**
 * Parse one line into a record; `reviver` is JSON.parse's.
 * @returns the record, or a short reason why the line is unusable.
 */
export function decodeRecord(
  line: string,
  reviver?: (key: string, value: unknown) => unknown,
): { ok: true; record: SessionRecord } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(line, reviver);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  const result = v.safeParse(recordSchema, json);
  if (!result.success) {
    const issue = result.issues[0];
    const path = v.getDotPath(issue);
    return { ok: false, reason: `invalid record${path ? ` at ${path}` : ''}: ${issue.message}` };
  }
  return { ok: true, record: result.output };
}
