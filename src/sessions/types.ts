/**
 * Storage-side shapes of messages and sessions, and the SessionStore
 * contract. The conversation model itself lives in messages/; no wire frames
 * here: channels map these onto their protocols.
 */

import type { Message } from '../messages/types.js';

/** A message as stored: the conversation message plus what storage adds. */
export interface StoredMessage extends Message {
  /** Stable message id (UUID). */
  id: string;
  runId?: string;
  /** On user rows: the chat.send idempotency key. */
  idempotencyKey?: string;
}

export interface SessionMeta {
  /** Canonical key `agent:<agentId>:<name>`. */
  key: string;
  agentId: string;
  /** UUID, stable across resets. */
  sessionId: string;
  label: string | null;
  /** The model chosen for this session (`kind/model`, sessions.patch); absent: the configured chain. */
  model?: string;
  /** First user text, at most 60 chars, or null before the first message. */
  derivedTitle: string | null;
  createdAt: number;
  updatedAt: number;
  messageCount: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  lastRunId: string | null;
}

export interface HistoryPage {
  /** Oldest first. */
  messages: StoredMessage[];
  hasMore: boolean;
  totalMessages: number;
}

export interface HistoryQuery {
  /** Max messages returned, newest ones. */
  limit?: number;
  /** Only messages strictly older than the message with this id. */
  before?: string;
}

/**
 * A durable session backend. Keys passed in are canonical (see session-key.ts).
 * Every mutating method resolves only once the change is on disk (fsync'd).
 * Methods reject with Error on I/O failure; they never lose acknowledged data.
 */
export interface SessionStore {
  /** Load or rebuild the index from the session files. Call once before use. */
  open(): Promise<void>;
  /** All sessions, newest `updatedAt` first. */
  list(): SessionMeta[];
  get(key: string): SessionMeta | undefined;
  /** Returns the session, creating it (durably) when it does not exist. */
  ensure(key: string): Promise<SessionMeta>;
  /** Set or clear (null) the label; creates the session when new. */
  setLabel(key: string, label: string | null): Promise<SessionMeta>;
  /** Set or clear (null) the session's model (`kind/model`); creates the session when new. */
  setModel(key: string, model: string | null): Promise<SessionMeta>;
  /** Append one message, fsync'd before the promise resolves. Creates the session when new. */
  append(key: string, message: StoredMessage): Promise<SessionMeta>;
  /**
   * Paged history in conversation order: each run's rows right after its user
   * message, whatever order they were stored in. An unknown key gives an empty page.
   */
  history(key: string, query?: HistoryQuery): Promise<HistoryPage>;
  /** Drop every message, keep key, sessionId, label and model. False when unknown. */
  reset(key: string): Promise<boolean>;
  /**
   * Optional: runs a crash may have cut, per session: runIds whose user row
   * has no closing assistant row (any stopReason but toolUse). Exact and
   * cheap (no file reads), so start-up repair need not read every session.
   * Without it, callers must check every session's full history.
   */
  openRuns?(): { sessionKey: string; runIds: string[] }[];
  /**
   * Optional: save reply text an open run streamed since its previous
   * checkpoint, durably, so a crash loses at most one interval. Ignored once
   * the run has its closing row. `text` may come as pieces in order (the
   * deltas as streamed), which the store may keep rather than copy.
   */
  checkpoint?(key: string, runId: string, text: string | readonly string[]): Promise<void>;
  /** Optional: all text checkpointed for an open run ('' when none); undefined when the run is not open. */
  partialReply?(key: string, runId: string): Promise<string | undefined>;
  /** Remove the session. False when unknown. */
  delete(key: string): Promise<boolean>;
  /** Flush and release file handles. */
  close(): Promise<void>;
}
