/**
 * The embedded SessionStore: one append-only JSONL file per session in one
 * directory, named by the hash of the canonical key, plus index.json as a
 * rebuildable cache of every session's meta. All changes to one session run
 * through that session's queue, so records never interleave and a rewrite
 * never races an append. Appends check the file is still the one last
 * written, and history reads in conversation order.
 */

import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { HistoryPage, HistoryQuery, SessionMeta, SessionStore, StoredMessage } from './types.js';
import { appendFileDurably, FileChangedError, isErrnoException, removeFileDurably, writeFileAtomic } from './atomic-write.js';
import { loadSessionFile, type LoadedSession, type SessionStoreLogger } from './session-file-loader.js';
import { SESSION_INDEX_FILE, type SessionIndexEntry } from './session-index.js';
import { HistoryCache, type CachedHistory } from './history-cache.js';
import { IndexWriter } from './index-writer.js';
import { KeyedQueue } from './keyed-queue.js';
import { entryOf, openSessionDirectory, type SessionEntry } from './session-directory.js';
import { parseSessionKey, sessionFileName } from './session-key.js';
import { applyMessageToMeta, applyMetaRecord, createSessionMeta } from './session-meta.js';
import { OpenRuns } from './open-runs.js';
import { placeInConversation } from './conversation-order.js';
import { encodeHeaderLines, headerOf, rewriteSessionFile } from './session-file-rewrite.js';
import {
  encodeCheckedRecord,
  encodeDraftRecord,
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

export interface FileSessionStoreOptions {
  /** Directory holding the session files; created with mode 0700. */
  dir: string;
  /** Receives warnings about damaged files. Default: console.warn. */
  logger?: SessionStoreLogger;
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
  /** Every change of one session runs in that session's queue. */
  readonly #queue = new KeyedQueue();
  /** Parsed messages of recently used sessions. */
  readonly #cache = new HistoryCache(MAX_CACHED_SESSIONS);
  readonly #index: IndexWriter;
  /** Session files that exist but could not be read at open: never written over, retried on the next write. */
  readonly #unreadable = new Set<string>();
  #state: 'new' | 'open' | 'closed' = 'new';

  constructor(options: FileSessionStoreOptions) {
    if (typeof options?.dir !== 'string' || options.dir.length === 0) {
      throw new TypeError('FileSessionStore: options.dir must be a non-empty path');
    }
    this.#dir = options.dir;
    this.#logger = options.logger ?? consoleLogger;
    this.#index = new IndexWriter(join(this.#dir, SESSION_INDEX_FILE), () => this.#indexSnapshot(), this.#logger, INDEX_WRITE_DELAY_MS);
  }

  async open(): Promise<void> {
    if (this.#state !== 'new') throw new Error('session store: open() may be called only once');
    await fs.mkdir(this.#dir, { recursive: true, mode: SESSION_DIR_MODE });
    await fs.chmod(this.#dir, SESSION_DIR_MODE);
    const opened = await openSessionDirectory(this.#dir, this.#logger);
    for (const entry of opened.entries) this.#sessions.set(entry.meta.key, entry);
    for (const fileName of opened.unreadable) this.#unreadable.add(fileName);
    this.#state = 'open';
    if (opened.indexStale) {
      this.#index.changed();
      await this.#index.flush();
    }
    this.#index.start();
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
    return this.#queue.run(key, async () => ({ ...(this.#sessions.get(key) ?? (await this.#create(key)).entry).meta }));
  }

  async setLabel(key: string, label: string | null): Promise<SessionMeta> {
    return this.#writeMeta(key, { label });
  }

  async setModel(key: string, model: string | null): Promise<SessionMeta> {
    return this.#writeMeta(key, { model });
  }

  #writeMeta(key: string, patch: { label?: string | null; model?: string | null }): Promise<SessionMeta> {
    this.#assertWritable(key);
    return this.#queue.run(key, () =>
      this.#writeSession(key, async ({ entry }) => {
        const record = { type: 'meta' as const, at: Date.now(), ...patch };
        await this.#appendRecord(entry, record);
        applyMetaRecord(entry.meta, record);
        this.#index.changed();
        return { ...entry.meta };
      }),
    );
  }

  /** A message whose id is already stored is not written again, so a retried append is harmless. */
  async append(key: string, message: StoredMessage): Promise<SessionMeta> {
    this.#assertWritable(key);
    return this.#queue.run(key, () =>
      this.#writeSession(key, async ({ entry, history }) => {
        if (history.ids.has(message.id)) return { ...entry.meta };
        const at = Date.now();
        const record = await this.#appendRecord(entry, { type: 'message', at, message });
        if (record.type !== 'message') throw new Error('session store: record type changed in encoding');
        applyMessageToMeta(entry.meta, record.message, at);
        entry.openRuns.note(record.message);
        placeInConversation(history.messages, record.message);
        history.ids.add(record.message.id);
        this.#index.changed();
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
      if (entry.openRuns.size > 0) result.push({ sessionKey, runIds: entry.openRuns.ids() });
    }
    return result;
  }

  /**
   * Save reply text an open run streamed since its last checkpoint, fsync'd,
   * so a crash loses at most one interval of it. Ignored once the run closed.
   */
  async checkpoint(key: string, runId: string, text: string | readonly string[]): Promise<void> {
    this.#assertWritable(key);
    // Never joined: the record is written and memory keeps the pieces, which the run holds anyway.
    const pieces = typeof text === 'string' ? [text] : text;
    if (!pieces.some((piece) => piece !== '')) return;
    await this.#queue.run(key, () =>
      this.#writeSession(key, async ({ entry }) => {
        if (!entry.openRuns.has(runId)) return;
        const encoded = encodeDraftRecord(Date.now(), runId, pieces);
        if (!encoded.ok) throw new Error(`session store: refusing to write an invalid draft record: ${encoded.reason}`);
        await this.#appendParts(entry, encoded.parts);
        entry.openRuns.addDraft(runId, pieces);
      }),
    );
  }

  /** Text checkpointed for an open run ('' when none); undefined when the run is not open or the session unknown. */
  async partialReply(key: string, runId: string): Promise<string | undefined> {
    this.#assertOpen();
    if (!this.#sessions.has(key)) return undefined;
    await this.#messages(key); // loads the drafts with the file when the index alone was read
    return this.#sessions.get(key)?.openRuns.draft(runId);
  }

  async reset(key: string): Promise<boolean> {
    this.#assertOpen();
    return this.#queue.run(key, async () => {
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
      const kept = { type: 'meta' as const, at, label: entry.meta.label, ...(entry.meta.model === undefined ? {} : { model: entry.meta.model }) };
      const data = encodeHeaderLines(header) + encodeRecord(kept);
      entry.file = await writeFileAtomic(join(this.#dir, entry.fileName), data);
      entry.meta = createSessionMeta(header);
      applyMetaRecord(entry.meta, kept);
      entry.openRuns = new OpenRuns();
      entry.inSync = true;
      this.#cache.remember(key, []);
      this.#index.changed();
      return true;
    });
  }

  async delete(key: string): Promise<boolean> {
    this.#assertOpen();
    return this.#queue.run(key, async () => {
      const entry = this.#sessions.get(key);
      if (!entry) return false;
      await removeFileDurably(join(this.#dir, entry.fileName));
      this.#sessions.delete(key);
      this.#cache.delete(key);
      this.#index.changed();
      return true;
    });
  }

  async close(): Promise<void> {
    if (this.#state !== 'open') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closed';
    await this.#queue.idle();
    await this.#index.stop();
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

  /**
   * Run `write` on the session ready for an append. When its file was
   * truncated, replaced or removed behind the store's back, nothing is
   * appended to it: a clean file with every record in memory takes its place
   * (the old one kept aside), then the write goes there.
   */
  async #writeSession<T>(key: string, write: (session: WritableSession) => Promise<T>): Promise<T> {
    const session = await this.#writableSession(key);
    try {
      return await write(session);
    } catch (error) {
      const missing = isErrnoException(error) && error.code === 'ENOENT';
      if (!(error instanceof FileChangedError) && !missing) throw error;
      await this.#rewriteChanged(session, error);
      return write(session);
    }
  }

  /** Replace a session file that changed behind the store with what memory holds. */
  async #rewriteChanged({ entry, history }: WritableSession, cause: unknown): Promise<void> {
    // Recreates the directory too if it was removed while the store was open.
    await fs.mkdir(this.#dir, { recursive: true, mode: SESSION_DIR_MODE });
    const { file, movedTo } = await rewriteSessionFile(this.#dir, entry.fileName, {
      meta: entry.meta,
      messages: history.messages,
      openRuns: entry.openRuns,
    });
    entry.file = file;
    entry.inSync = true;
    this.#index.changed();
    this.#logger.warn(
      { file: entry.fileName, key: entry.meta.key, reason: errorReason(cause), kept: history.messages.length, movedTo },
      'session file changed behind the store; wrote a clean one with every known message',
    );
  }

  /** The session ready for an append, with its messages loaded; created when new. Runs inside the queue. */
  async #writableSession(key: string): Promise<WritableSession> {
    const entry = this.#sessions.get(key);
    if (entry) {
      const cached = entry.inSync ? this.#cache.peek(key) : undefined;
      if (cached) return { entry, history: this.#cache.remember(key, cached) };
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
      loaded = await loadSessionFile(this.#dir, entry.fileName, this.#logger, headerOf(entry.meta));
    } catch (error) {
      if (!(await this.#isGone(entry.fileName))) throw error;
      this.#forgetVanished(entry);
      return undefined;
    }
    this.#index.changed();
    if (!loaded) {
      this.#sessions.delete(key);
      this.#cache.delete(key);
      return undefined;
    }
    entry.meta = loaded.meta;
    entry.openRuns = loaded.openRuns;
    entry.file = loaded.file;
    entry.inSync = true;
    return this.#cache.remember(key, loaded.messages);
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
    const file = await writeFileAtomic(join(this.#dir, fileName), encodeHeaderLines(header));
    const entry: SessionEntry = { meta: createSessionMeta(header), openRuns: new OpenRuns(), fileName, file, inSync: true };
    this.#sessions.set(key, entry);
    this.#index.changed();
    return { entry, history: this.#cache.remember(key, []) };
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
    this.#index.changed();
    return { entry, history: this.#cache.remember(key, loaded.messages) };
  }

  /** Drop a session whose file was removed from outside; the next write starts it anew. */
  #forgetVanished(entry: SessionEntry): void {
    this.#logger.warn({ file: entry.fileName, key: entry.meta.key }, 'session file was removed; starting it anew');
    this.#sessions.delete(entry.meta.key);
    this.#cache.delete(entry.meta.key);
    this.#index.changed();
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
    const encoded = encodeCheckedRecord(record);
    if (!encoded.ok) {
      throw new Error(`session store: refusing to write an invalid ${record.type} record: ${encoded.reason}`);
    }
    await this.#appendParts(entry, encoded.parts);
    return encoded.record;
  }

  /** Append one record's line, given as parts, fdatasync'd. */
  async #appendParts(entry: SessionEntry, parts: Iterable<string>): Promise<void> {
    try {
      entry.file = await appendFileDurably(join(this.#dir, entry.fileName), parts, entry.file);
    } catch (error) {
      // Nothing was written: the caller replaces the file.
      if (error instanceof FileChangedError || (isErrnoException(error) && error.code === 'ENOENT')) throw error;
      // Some or all of the line may be on disk: re-read the file before the next append or read.
      entry.inSync = false;
      this.#cache.delete(entry.meta.key);
      throw error;
    }
  }

  /** Messages of a known session, from the cache or parsed from its file inside its queue. */
  async #messages(key: string): Promise<StoredMessage[]> {
    const cached = this.#cache.peek(key);
    if (cached) return this.#cache.remember(key, cached).messages;
    return this.#queue.run(key, async () => {
      const entry = this.#sessions.get(key);
      if (!entry) return [];
      const history = (entry.inSync ? this.#cache.peek(key) : undefined) ?? (await this.#reload(entry));
      return history?.messages ?? [];
    });
  }

  /** Every session as index.json stores it. */
  #indexSnapshot(): [string, SessionIndexEntry][] {
    return [...this.#sessions.values()].map((entry) => [
      entry.fileName,
      { meta: { ...entry.meta }, openRuns: entry.openRuns.ids(), file: { ...entry.file } },
    ]);
  }
}

function errorReason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Newest first; ties broken by key so the order does not depend on load order. */
function newestFirst(a: SessionMeta, b: SessionMeta): number {
  return b.updatedAt - a.updatedAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
