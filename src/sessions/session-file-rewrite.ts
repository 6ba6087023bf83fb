/**
 * Replacing a session file that changed behind the store (truncated,
 * replaced, deleted) with a clean one that holds every record the store
 * knows (issue 13, item 4). The damaged file is kept aside, never deleted.
 */

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { SessionMeta, StoredMessage } from './types.js';
import { isErrnoException, writeFileAtomic, type FileVersion } from './atomic-write.js';
import type { OpenRuns } from './open-runs.js';
import { encodeRecord, SESSION_FILE_VERSION, type SessionHeaderRecord } from './session-records.js';

export interface SessionFileContent {
  meta: SessionMeta;
  messages: readonly StoredMessage[];
  openRuns: OpenRuns;
}

/** The header a session's meta was built from. */
export function headerOf(meta: SessionMeta): SessionHeaderRecord {
  return { type: 'session', version: SESSION_FILE_VERSION, key: meta.key, sessionId: meta.sessionId, createdAt: meta.createdAt };
}

/** The opening lines of every session file: its header and the copy of it that survives a garbled line 1. */
export function encodeHeaderLines(header: SessionHeaderRecord): string {
  return encodeRecord(header) + encodeRecord(header);
}

/** Every record of a session as file text: header lines, label and model, messages, then the drafts of open runs. */
export function encodeSessionFile(content: SessionFileContent): string {
  const { meta } = content;
  const parts = [encodeHeaderLines(headerOf(meta))];
  if (meta.label !== null || meta.model !== undefined) {
    const kept = { type: 'meta' as const, at: meta.createdAt, ...(meta.label === null ? {} : { label: meta.label }) };
    parts.push(encodeRecord(meta.model === undefined ? kept : { ...kept, model: meta.model }));
  }
  for (const message of content.messages) parts.push(encodeRecord({ type: 'message', at: message.timestamp, message }));
  for (const runId of content.openRuns.ids()) {
    const text = content.openRuns.draft(runId);
    if (text) parts.push(encodeRecord({ type: 'draft', at: meta.updatedAt, runId, text }));
  }
  return parts.join('');
}

/**
 * Write `content` as `<dir>/<fileName>`, after keeping whatever is there now
 * as `<fileName>.damaged-<ms>` (a hard link, so the swap stays atomic).
 * Returns the new file's stamp and the name the old one was kept under.
 */
export async function rewriteSessionFile(
  dir: string,
  fileName: string,
  content: SessionFileContent,
): Promise<{ file: FileVersion; movedTo?: string }> {
  const path = join(dir, fileName);
  let movedTo: string | undefined = `${fileName}.damaged-${Date.now()}`;
  try {
    await fs.link(path, join(dir, movedTo));
  } catch (error) {
    if (!isErrnoException(error) || error.code !== 'ENOENT') throw error;
    movedTo = undefined; // deleted: nothing to keep
  }
  const file = await writeFileAtomic(path, encodeSessionFile(content));
  return movedTo === undefined ? { file } : { file, movedTo };
}
