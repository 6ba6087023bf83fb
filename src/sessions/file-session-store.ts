/**
 * The embedded SessionStore: one append-only JSONL file per session in one
 * directory, named by the hash of the canonical key, plus index.json as a
 * rebuildable cache of every session's meta. All changes to one session run
 * through that session's queue, so records never interleave and a rewrite
 * never races an append.
 */

import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { HistoryPage, HistoryQuery, SessionMeta, SessionStore, StoredMessage } from './types.js';
import {
  appendFileDurably,
  isErrnoException,
  removeFileDurably,
  TEMP_FILE_SUFFIX,
  writeFileAtomic,
  type FileVersion,
} from './atomic-write.js';
import {
  loadSessionFile,
  runConcurrently,
  type LoadedSession,
  type SessionStoreLogger,
} from './session-file-loader.js';
import {
  isSameFileVersion,
  readSessionIndex,
  SESSION_INDEX_FILE,
  writeSessionIndex,
  type SessionIndexEntry,
} from './session-index.js';
import { parseSessionKey, sessionFileName } from './session-key.js';
import { applyLabelToMeta, applyMessageToMeta, createSessionMeta } from './session-meta.js';
import { trackOpenRuns } from './open-runs.js';
import {
  decodeRecord,
  encodeRecord,
  SESSION_FILE_VERSION,
  type SessionHeaderRecord,
  type SessionRecord,
} from './session-records.js';

export type { SessionStoreLogger };

/** Mode of the sessions directory: owner only. */
export const SESSION_DIR_MODE = 0o700;
/** Delay between a change and the index write that records it, in ms. */
export const INDEX_WRITE_DELAY_MS = 1_000;
/** Sessions whose parsed messages stay in memory (least recently used are dropped). */
export const MAX_CACHED_SESSIONS = 32;
/** Files stat'ed or parsed at once while opening. */
const OPEN_CONCURRENCY = 32;
const SESSION_FILE = /^[0-9a-f]{64}\.jsonl$/;

export interface FileSessionStoreOptions {
  /** Directory holding the session files; created with mode 0700. */
  dir: string;
  /** Receives warnings about damaged files. Default: console.warn. */
  logger?: SessionStoreLogger;
}

interface SessionEntry {
  meta: SessionMeta;
  fileName: string;
  /** Runs with a user row and no closing row, kept with every append (see open-runs.ts). */
  openRuns: Set<string>;
  /** Stamp of the file as of `meta`; the index entry is valid only while it holds. */
  file: FileVersion;
  /** False after a failed append: the file may hold a partial line that memory does not. */
  inSync: boolean;
}

/** A session's messages in memory, with their ids for duplicate checks. */
interface CachedHistory {
  messages: StoredMessage[];
  ids: Set<string>;
}

interface WritableSession {
  entry: SessionEntry;
  history: CachedHistory;
}

const consoleLogger: SessionStoreLogger = {
  warn: (obj, msg) => console.warn(`sessions: ${msg}`, obj),
};

/** Durable, file-backed SessionStore. Call `open()` once before use and `close()` at shutdown. */
export class FileSessionStore implements SessionStore {
  readonly #dir: string;
  readonly #logger: SessionStoreLogger;
  readonly #sessions = new Map<string, SessionEntry>();
  /** Tail of each session's task chain; never rejects. */
  readonly #queues = new Map<string, Promise<void>>();
  /** Parsed messages by key, in least-recently-used order. */
  readonly #cache = new Map<string, CachedHistory>();
  /** Session files that exist but could not be read at open: never written over, retried on the next write. */
  readonly #unreadable = new Set<string>();
  #state: 'new' | 'open' | 'closed' = 'new';
  #indexDirty = false;
  #indexTimer: NodeJS.Timeout | undefined;
  #indexWrites: Promise<void> = Promise.resolve();

  constructor(options: FileSessionStoreOptions) {
    if (typeof options?.dir !== 'string' || options.dir.length === 0) {
      throw new TypeError('FileSessionStore: options.dir must be a non-empty path');
    }
    this.#dir = options.dir;
    this.#logger = options.logger ?? consoleLogger;
  }

  async open(): Promise<void> {
    if (this.#state !== 'new') throw new Error('session store: open() may be called only once');
    await fs.mkdir(this.#dir, { recursive: true, mode: SESSION_DIR_MODE });
    await fs.chmod(this.#dir, SESSION_DIR_MODE);
    const names = await fs.readdir(this.#dir);
    // Leftovers of rewrites interrupted by a crash; the target file is intact.
    const temps = names.filter((name) => name.startsWith('.') && name.endsWith(TEMP_FILE_SUFFIX));
    await Promise.all(temps.map((name) => fs.rm(join(this.#dir, name), { force: true })));

    const files = names.filter((name) => SESSION_FILE.test(name));
    const index = await readSessionIndex(join(this.#dir, SESSION_INDEX_FILE));
    if (index.status === 'corrupt') {
      this.#logger.warn({ reason: index.reason }, 'session index is corrupt; rebuilding it from the session files');
    } else if (index.status === 'missing' && files.length > 0) {
      this.#logger.warn({ files: files.length }, 'session index is missing; rebuilding it from the session files');
    }
    const indexed: Map<string, SessionIndexEntry> = index.status === 'ok' ? index.entries : new Map();
    let rebuilt = 0;
    await runConcurrently(files, OPEN_CONCURRENCY, async (fileName) => {
      try {
        const cached = indexed.get(fileName);
        if (cached) {
          const stat = await fs.stat(join(this.#dir, fileName));
          if (isSameFileVersion(cached.file, stat)) {
            // Unchanged since we wrote it, and we only stamp files that end with a newline.
            this.#sessions.set(cached.meta.key, { ...cached, openRuns: new Set(cached.openRuns), fileName, inSync: true });
            return;
          }
        }
        rebuilt += 1;
        const loaded = await loadSessionFile(this.#dir, fileName, this.#logger);
        if (loaded) this.#sessions.set(loaded.meta.key, entryOf(loaded, fileName));
      } catch (error) {
        // An I/O error is not damage: serve every other session, leave this file alone, try again later.
        this.#unreadable.add(fileName);
        this.#logger.warn(
          { file: fileName, reason: errorReason(error) },
          'could not read session file; leaving it in place and skipping it',
        );
      }
    });
    this.#state = 'open';
    if (rebuilt > 0 || indexed.size !== this.#sessions.size) {
      this.#indexDirty = true;
      await this.#flushIndex();
    }
  }

  list(): SessionMeta[] {
    this.#assertOpen();
    return [...this.#sessions.values()]
      .map((entry) => ({ ...entry.meta }))
      .sort(newestFirst);
  }

  get(key: string): SessionMeta | undefined {
    this.#assertOpen();
    const entry = this.#sessions.get(key);
    return entry ? { ...entry.meta } : undefined;
  }

  async ensure(key: string): Promise<SessionMeta> {
    this.#assertWritable(key);
    const entry = this.#sessions.get(key);
    if (entry) return { ...entry.meta };
    return this.#enqueue(key, async () => ({ ...(this.#sessions.get(key) ?? (await this.#create(key)).entry).meta }));
  }

  async setLabel(key: string, label: string | null): Promise<SessionMeta> {
    this.#assertWritable(key);
    return this.#enqueue(key, () =>
      this.#writeSession(key, async ({ entry }) => {
        const at = Date.now();
        await this.#appendRecord(entry, { type: 'meta', at, label });
        applyLabelToMeta(entry.meta, label, at);
        this.#indexChanged();
        return { ...entry.meta };
      }),
    );
  }

  /** A message whose id is already stored is not written again, so a retried append is harmless. */
  async append(key: string, message: StoredMessage): Promise<SessionMeta> {
    this.#assertWritable(key);
    return this.#enqueue(key, () =>
      this.#writeSession(key, async ({ entry, history }) => {
        if (history.ids.has(message.id)) return { ...entry.meta };
        const at = Date.now();
        const record = await this.#appendRecord(entry, { type: 'message', at, message });
        if (record.type !== 'message') throw new Error('session store: record type changed in encoding');
        applyMessageToMeta(entry.meta, record.message, at);
        trackOpenRuns(entry.openRuns, record.message);
        history.messages.push(record.message);
        history.ids.add(record.message.id);
        this.#indexChanged();
        return { ...entry.meta };
      }),
    );
  }

  /** Messages returned are shared with the cache: treat them as read-only. */
  async history(key: string, query: HistoryQuery = {}): Promise<HistoryPage> {
    this.#assertOpen();
    const messages = this.#sessions.has(key) ? await this.#messages(key) : [];
    let end = messages.length;
    if (query.before !== undefined) {
      // An unknown `before` id selects nothing rather than everything.
      const index = messages.findIndex((message) => message.id === query.before);
      end = index < 0 ? 0 : index;
    }
    const { limit: requested } = query;
    const limited = typeof requested === 'number' && Number.isFinite(requested);
    const limit = limited ? Math.max(0, Math.floor(requested)) : end;
    const start = Math.max(0, end - limit);
    return { messages: messages.slice(start, end), hasMore: start > 0, totalMessages: messages.length };
  }

  /**
   * Runs a crash may have cut: per session, the runIds whose user row has no
   * closing row. Exact for every session, read from memory (no file is read).
   */
  openRuns(): { sessionKey: string; runIds: string[] }[] {
    this.#assertOpen();
    const result: { sessionKey: string; runIds: string[] }[] = [];
    for (const [sessionKey, entry] of this.#sessions) {
      if (entry.openRuns.size > 0) result.push({ sessionKey, runIds: [...entry.openRuns] });
    }
    return result;
  }

  async reset(key: string): Promise<boolean> {
    this.#assertOpen();
    return this.#enqueue(key, async () => {
      const entry = this.#sessions.get(key);
      if (!entry) return false;
      const header: SessionHeaderRecord = {
        type: 'session',
        version: SESSION_FILE_VERSION,
        key,
        sessionId: entry.meta.sessionId,
        createdAt: entry.meta.createdAt,
      };
      const at = Date.now();
      const label = entry.meta.label;
      const data = encodeRecord(header) + encodeRecord({ type: 'meta', at, label });
      entry.file = await writeFileAtomic(join(this.#dir, entry.fileName), data);
      entry.meta = createSessionMeta(header);
      applyLabelToMeta(entry.meta, label, at);
      entry.openRuns.clear();
      entry.inSync = true;
      this.#remember(key, []);
      this.#indexChanged();
      return true;
    });
  }

  async delete(key: string): Promise<boolean> {
    this.#assertOpen();
    return this.#enqueue(key, async () => {
      const entry = this.#sessions.get(key);
      if (!entry) return false;
      await removeFileDurably(join(this.#dir, entry.fileName));
      this.#sessions.delete(key);
      this.#cache.delete(key);
      this.#indexChanged();
      return true;
    });
  }

  async close(): Promise<void> {
    if (this.#state !== 'open') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closed';
    while (this.#queues.size > 0) await Promise.all(this.#queues.values());
    clearTimeout(this.#indexTimer);
    this.#indexTimer = undefined;
    await this.#flushIndex();
    this.#cache.clear();
  }

  #assertOpen(): void {
    if (this.#state !== 'open') {
      throw new Error(this.#state === 'new' ? 'session store is not open' : 'session store is closed');
    }
  }

  #assertWritable(key: string): void {
    this.#assertOpen();
    parseSessionKey(key); // throws on a non-canonical key: callers canonicalise first
  }

  /** Run `task` after every earlier task of the same session. */
  #enqueue<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(key, settled);
    void settled.then(() => {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    });
    return result;
  }

  /**
   * Run `write` on the session ready for an append. When its file was removed
   * behind the store's back, the removal stands: the session starts anew once.
   */
  async #writeSession<T>(key: string, write: (session: WritableSession) => Promise<T>): Promise<T> {
    const session = await this.#writableSession(key);
    try {
      return await write(session);
    } catch (error) {
      const missing = isErrnoException(error) && error.code === 'ENOENT';
      if (!missing || !(await this.#isGone(session.entry.fileName))) throw error;
      this.#forgetVanished(session.entry);
      return write(await this.#create(key));
    }
  }

  /** The session ready for an append, with its messages loaded; created when new. Runs inside the queue. */
  async #writableSession(key: string): Promise<WritableSession> {
    const entry = this.#sessions.get(key);
    if (entry) {
      const cached = entry.inSync ? this.#cache.get(key) : undefined;
      if (cached) return { entry, history: this.#remember(key, cached) };
      const history = await this.#reload(entry);
      if (history) return { entry, history };
    }
    return this.#create(key);
  }

  /**
   * Re-read a session's file (repairing its tail) and make memory match it.
   * Undefined when the file turned out unreadable or gone and the session was dropped.
   */
  async #reload(entry: SessionEntry): Promise<CachedHistory | undefined> {
    const key = entry.meta.key;
    let loaded: LoadedSession | undefined;
    try {
      loaded = await loadSessionFile(this.#dir, entry.fileName, this.#logger);
    } catch (error) {
      if (!(await this.#isGone(entry.fileName))) throw error;
      this.#forgetVanished(entry);
      return undefined;
    }
    this.#indexChanged();
    if (!loaded) {
      this.#sessions.delete(key);
      this.#cache.delete(key);
      return undefined;
    }
    entry.meta = loaded.meta;
    entry.openRuns = new Set(loaded.openRuns);
    entry.file = loaded.file;
    entry.inSync = true;
    return this.#remember(key, loaded.messages);
  }

  async #create(key: string): Promise<WritableSession> {
    const fileName = sessionFileName(key);
    if (this.#unreadable.has(fileName)) {
      const adopted = await this.#retryUnreadable(key, fileName);
      if (adopted) return adopted;
    }
    const header: SessionHeaderRecord = {
      type: 'session',
      version: SESSION_FILE_VERSION,
      key,
      sessionId: randomUUID(),
      createdAt: Date.now(),
    };
    // Recreates the directory too if it was removed while the store was open.
    await fs.mkdir(this.#dir, { recursive: true, mode: SESSION_DIR_MODE });
    const file = await writeFileAtomic(join(this.#dir, fileName), encodeRecord(header));
    const entry: SessionEntry = { meta: createSessionMeta(header), openRuns: new Set(), fileName, file, inSync: true };
    this.#sessions.set(key, entry);
    this.#indexChanged();
    return { entry, history: this.#remember(key, []) };
  }

  /**
   * Load a session file that could not be read at open. Throws while it still
   * cannot be read, so a new file never replaces it; undefined when it is gone
   * (or was moved aside as damaged) and a new session may be created.
   */
  async #retryUnreadable(
    key: string,
    fileName: string,
  ): Promise<WritableSession | undefined> {
    let loaded: LoadedSession | undefined;
    try {
      loaded = await loadSessionFile(this.#dir, fileName, this.#logger);
    } catch (error) {
      if (!(await this.#isGone(fileName))) {
        throw new Error(`session store: session file ${fileName} cannot be read (${errorReason(error)})`, {
          cause: error,
        });
      }
    }
    this.#unreadable.delete(fileName);
    if (!loaded) return undefined;
    const entry = entryOf(loaded, fileName);
    this.#sessions.set(key, entry);
    this.#indexChanged();
    return { entry, history: this.#remember(key, loaded.messages) };
  }

  /** Drop a session whose file was removed from outside; the next write starts it anew. */
  #forgetVanished(entry: SessionEntry): void {
    this.#logger.warn({ file: entry.fileName, key: entry.meta.key }, 'session file was removed; starting it anew');
    this.#sessions.delete(entry.meta.key);
    this.#cache.delete(entry.meta.key);
    this.#indexChanged();
  }

  /** True when nothing at all (not even a dangling link) is at the session file's path. */
  async #isGone(fileName: string): Promise<boolean> {
    try {
      await fs.lstat(join(this.#dir, fileName));
      return false;
    } catch (error) {
      return isErrnoException(error) && error.code === 'ENOENT';
    }
  }

  /**
   * Append one record, fdatasync'd. The record is validated by decoding its
   * own line first, so nothing is acknowledged that a reload would skip.
   */
  async #appendRecord(entry: SessionEntry, record: SessionRecord): Promise<SessionRecord> {
    const line = encodeRecord(record);
    const decoded = decodeRecord(line.slice(0, -1));
    if (!decoded.ok) {
      throw new Error(`session store: refusing to write an invalid ${record.type} record: ${decoded.reason}`);
    }
    try {
      entry.file = await appendFileDurably(join(this.#dir, entry.fileName), line);
    } catch (error) {
      // Some or all of the line may be on disk: re-read the file before the next append or read.
      entry.inSync = false;
      this.#cache.delete(entry.meta.key);
      throw error;
    }
    return decoded.record;
  }

  /** Messages of a known session, from the cache or parsed from its file inside its queue. */
  async #messages(key: string): Promise<StoredMessage[]> {
    const cached = this.#cache.get(key);
    if (cached) return this.#remember(key, cached).messages;
    return this.#enqueue(key, async () => {
      const entry = this.#sessions.get(key);
      if (!entry) return [];
      const history = (entry.inSync ? this.#cache.get(key) : undefined) ?? (await this.#reload(entry));
      return history?.messages ?? [];
    });
  }

  /** Put (or move) a session's messages at the most-recently-used end of the cache. */
  #remember(key: string, history: CachedHistory | StoredMessage[]): CachedHistory {
    const value = Array.isArray(history) ? { messages: history, ids: new Set(history.map((m) => m.id)) } : history;
    this.#cache.delete(key);
    this.#cache.set(key, value);
    while (this.#cache.size > MAX_CACHED_SESSIONS) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
    return value;
  }

  #indexChanged(): void {
    this.#indexDirty = true;
    if (this.#state !== 'open' || this.#indexTimer) return;
    this.#indexTimer = setTimeout(() => {
      this.#indexTimer = undefined;
      void this.#flushIndex();
    }, INDEX_WRITE_DELAY_MS);
    this.#indexTimer.unref();
  }

  /** Write the index if anything changed; serialised so a later snapshot always lands last. */
  #flushIndex(): Promise<void> {
    this.#indexWrites = this.#indexWrites.then(async () => {
      if (!this.#indexDirty) return;
      this.#indexDirty = false;
      const snapshot = [...this.#sessions.values()].map((entry): [string, SessionIndexEntry] => [
        entry.fileName,
        { meta: { ...entry.meta }, openRuns: [...entry.openRuns], file: { ...entry.file } },
      ]);
      try {
        await writeSessionIndex(join(this.#dir, SESSION_INDEX_FILE), snapshot);
      } catch (error) {
        this.#indexDirty = true;
        this.#logger.warn({ reason: errorReason(error) }, 'could not write the session index');
      }
    });
    return this.#indexWrites;
  }
}

function entryOf(loaded: LoadedSession, fileName: string): SessionEntry {
  return { meta: loaded.meta, openRuns: new Set(loaded.openRuns), file: loaded.file, fileName, inSync: true };
}

function errorReason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Newest first; ties broken by key so the order does not depend on load order. */
function newestFirst(a: SessionMeta, b: SessionMeta): number {
  return b.updatedAt - a.updatedAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
