/**
 * Opening the sessions directory: what the store knows of each session
 * (its entry), read from index.json where a file is unchanged since the index
 * was written and from the file itself otherwise.
 */

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { SessionMeta } from './types.js';
import { TEMP_FILE_SUFFIX, type FileVersion } from './atomic-write.js';
import { OpenRuns } from './open-runs.js';
import { loadSessionFile, runConcurrently, type LoadedSession, type SessionStoreLogger } from './session-file-loader.js';
import { headerOf } from './session-file-rewrite.js';
import { isSameFileVersion, readSessionIndex, SESSION_INDEX_FILE, type SessionIndexEntry } from './session-index.js';

/** Files stat'ed or parsed at once while opening. */
const OPEN_CONCURRENCY = 32;
const SESSION_FILE = /^[0-9a-f]{64}\.jsonl$/;

/** What the store keeps of every session, loaded or not. */
export interface SessionEntry {
  meta: SessionMeta;
  fileName: string;
  /** Runs with a user row and no closing row, kept with every append (see open-runs.ts). */
  openRuns: OpenRuns;
  /** Stamp of the file as of `meta`; the index entry is valid only while it holds. */
  file: FileVersion;
  /** False after a failed append: the file may hold a partial line that memory does not. */
  inSync: boolean;
}

export interface OpenedDirectory {
  entries: SessionEntry[];
  /** Session files that exist but could not be read (I/O errors), left in place. */
  unreadable: string[];
  /** index.json needs writing: some entries were rebuilt from their files, or dropped. */
  indexStale: boolean;
}

/** The entry of a session just loaded from its file. */
export function entryOf(loaded: LoadedSession, fileName: string): SessionEntry {
  return { meta: loaded.meta, openRuns: loaded.openRuns, file: loaded.file, fileName, inSync: true };
}

/** Read every session of `dir` (which must exist), removing the temp files of interrupted rewrites. */
export async function openSessionDirectory(dir: string, logger: SessionStoreLogger): Promise<OpenedDirectory> {
  const names = await fs.readdir(dir);
  // Leftovers of rewrites interrupted by a crash; the target file is intact.
  const temps = names.filter((name) => name.startsWith('.') && name.endsWith(TEMP_FILE_SUFFIX));
  await Promise.all(temps.map((name) => fs.rm(join(dir, name), { force: true })));

  const files = names.filter((name) => SESSION_FILE.test(name));
  const index = await readSessionIndex(join(dir, SESSION_INDEX_FILE));
  if (index.status === 'corrupt') {
    logger.warn({ reason: index.reason }, 'session index is corrupt; rebuilding it from the session files');
  } else if (index.status === 'missing' && files.length > 0) {
    logger.warn({ files: files.length }, 'session index is missing; rebuilding it from the session files');
  }
  const indexed: Map<string, SessionIndexEntry> = index.status === 'ok' ? index.entries : new Map();
  const opened: OpenedDirectory = { entries: [], unreadable: [], indexStale: false };
  await runConcurrently(files, OPEN_CONCURRENCY, async (fileName) => {
    try {
      const cached = indexed.get(fileName);
      if (cached) {
        const stat = await fs.stat(join(dir, fileName));
        if (isSameFileVersion(cached.file, stat)) {
          // Unchanged since we wrote it, and we only stamp files that end with a newline.
          opened.entries.push({ ...cached, openRuns: new OpenRuns(cached.openRuns), fileName, inSync: true });
          return;
        }
      }
      opened.indexStale = true;
      // The index still knows whose file it is, should its header be garbled.
      const hint = cached === undefined ? undefined : headerOf(cached.meta);
      const loaded = await loadSessionFile(dir, fileName, logger, hint);
      if (loaded) opened.entries.push(entryOf(loaded, fileName));
    } catch (error) {
      // An I/O error is not damage: serve every other session, leave this file alone, try again later.
      opened.unreadable.push(fileName);
      logger.warn(
        { file: fileName, reason: error instanceof Error ? error.message : String(error) },
        'could not read session file; leaving it in place and skipping it',
      );
    }
  });
  if (indexed.size !== opened.entries.length) opened.indexStale = true;
  return opened;
}
