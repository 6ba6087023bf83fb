/**
 * index.json: a cache of every session's meta, keyed by file name and
 * stamped with the file's size, mtime and inode when the meta was taken. An
 * entry is trusted only while its file still has that exact stamp; anything
 * else (missing, corrupt, stale) is rebuilt from the session file.
 */

import { promises as fs } from 'node:fs';
import * as v from 'valibot';
import type { SessionMeta } from './types.js';
import { isErrnoException, writeFileAtomic, type FileVersion } from './atomic-write.js';
import { isCanonicalSessionKey, sessionFileName } from './session-key.js';

/** File name of the index inside the sessions directory. */
export const SESSION_INDEX_FILE = 'index.json';
/** 2 added `openRuns`; an index of another version is rebuilt from the files. */
const INDEX_VERSION = 2;

export interface SessionIndexEntry {
  meta: SessionMeta;
  /** Runs with a user row and no closing row (see open-runs.ts). */
  openRuns: string[];
  /** The session file's stamp when `meta` was computed. */
  file: FileVersion;
}

const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const metaSchema = v.object({
  key: v.string(),
  agentId: v.string(),
  sessionId: v.string(),
  label: v.nullable(v.string()),
  model: v.optional(v.string()),
  derivedTitle: v.nullable(v.string()),
  createdAt: v.number(),
  updatedAt: v.number(),
  messageCount: count,
  inputTokens: v.number(),
  outputTokens: v.number(),
  totalTokens: v.number(),
  lastRunId: v.nullable(v.string()),
});
const indexSchema = v.object({
  version: v.literal(INDEX_VERSION),
  sessions: v.record(
    v.string(),
    v.object({
      meta: metaSchema,
      openRuns: v.array(v.string()),
      file: v.object({ size: count, mtimeMs: v.number(), ino: v.number() }),
    }),
  ),
});

export type SessionIndexReadResult =
  | { status: 'ok'; entries: Map<string, SessionIndexEntry> }
  | { status: 'missing' }
  | { status: 'corrupt'; reason: string };

/** Read the index. Entries whose key does not hash to their file name are dropped. */
export async function readSessionIndex(path: string): Promise<SessionIndexReadResult> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return { status: 'missing' };
    return { status: 'corrupt', reason: error instanceof Error ? error.message : String(error) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: 'corrupt', reason: 'not valid JSON' };
  }
  const result = v.safeParse(indexSchema, json);
  if (!result.success) return { status: 'corrupt', reason: result.issues[0].message };
  const entries = new Map<string, SessionIndexEntry>();
  for (const [fileName, entry] of Object.entries(result.output.sessions)) {
    if (!isCanonicalSessionKey(entry.meta.key) || sessionFileName(entry.meta.key) !== fileName) continue;
    entries.set(fileName, entry);
  }
  return { status: 'ok', entries };
}

/** Write the index atomically. */
export async function writeSessionIndex(path: string, entries: Iterable<[string, SessionIndexEntry]>): Promise<void> {
  const sessions: Record<string, SessionIndexEntry> = {};
  for (const [fileName, entry] of entries) sessions[fileName] = entry;
  await writeFileAtomic(path, JSON.stringify({ version: INDEX_VERSION, sessions }));
}

/** True when a file's current stamp equals the one an index entry was taken at. */
export function isSameFileVersion(a: FileVersion, b: FileVersion): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}
