/**
 * Loading one session file from disk: parse it, log its damage, repair its
 * tail so the next append starts on a fresh line, restore a header that only
 * the hint still knew, and move an unreadable file aside (never delete it)
 * so it can neither hide nor block a session.
 */

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { SessionMeta, StoredMessage } from './types.js';
import { appendFileDurably, renameDurably, truncateFileDurably, type FileVersion } from './atomic-write.js';
import type { OpenRuns } from './open-runs.js';
import { parseSessionFile } from './session-file-parser.js';
import { sessionFileName } from './session-key.js';
import { encodeRecord, type SessionHeaderRecord } from './session-records.js';

/** Damage warnings logged per file; the rest are counted in one more warning. */
export const MAX_WARNINGS_PER_FILE = 5;

export interface SessionStoreLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface LoadedSession {
  meta: SessionMeta;
  /** In conversation order. */
  messages: StoredMessage[];
  /** Runs with a user row and no closing row, with their drafts. */
  openRuns: OpenRuns;
  /** Stamp of the file after any repair. */
  file: FileVersion;
}

/**
 * Load `<dir>/<fileName>`. `hint` is the header to assume when the file's own
 * header and its copy are unreadable (from index.json or memory). Undefined
 * when no usable header is left or its key does not hash to the file name;
 * such a file is renamed to `<fileName>.unreadable-<ms>`. I/O errors are
 * thrown and leave the file alone.
 */
export async function loadSessionFile(
  dir: string,
  fileName: string,
  logger: SessionStoreLogger,
  hint?: SessionHeaderRecord,
): Promise<LoadedSession | undefined> {
  const path = join(dir, fileName);
  const usableHint = hint !== undefined && sessionFileName(hint.key) === fileName ? hint : undefined;
  const parsed = parseSessionFile(await fs.readFile(path), usableHint);
  for (const issue of parsed.issues.slice(0, MAX_WARNINGS_PER_FILE)) {
    logger.warn({ file: fileName, line: issue.line, reason: issue.reason }, 'skipped damaged line in session file');
  }
  if (parsed.issues.length > MAX_WARNINGS_PER_FILE) {
    logger.warn({ file: fileName, more: parsed.issues.length - MAX_WARNINGS_PER_FILE }, 'more damaged lines skipped');
  }
  if (!parsed.header || !parsed.meta || sessionFileName(parsed.header.key) !== fileName) {
    const movedTo = `${fileName}.unreadable-${Date.now()}`;
    await renameDurably(path, join(dir, movedTo));
    logger.warn({ file: fileName, movedTo }, 'unreadable session file moved aside');
    return undefined;
  }
  if (parsed.damagedRows > 0) {
    logger.warn(
      { file: fileName, key: parsed.header.key, damagedRows: parsed.damagedRows },
      'session has damaged messages; chat.history shows a placeholder for each',
    );
  }
  let stat: FileVersion;
  if (parsed.tail === 'torn') stat = await truncateFileDurably(path, parsed.completeBytes);
  else if (parsed.tail === 'unterminated') stat = await appendFileDurably(path, '\n');
  else stat = await fs.stat(path);
  if (parsed.headerSource === 'hint') {
    // The file no longer says whose it is: write the header again, so the next read needs no hint.
    stat = await appendFileDurably(path, encodeRecord(parsed.header));
    logger.warn({ file: fileName, key: parsed.header.key }, 'session header was unreadable; restored it from the index');
  } else if (parsed.headerSource === 'copy') {
    logger.warn({ file: fileName, key: parsed.header.key }, 'session header was unreadable; read it from its copy');
  }
  return {
    meta: parsed.meta,
    messages: parsed.messages,
    openRuns: parsed.openRuns,
    file: { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino },
  };
}

/** Run `task` over `items` with at most `limit` in flight. */
export async function runConcurrently<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
