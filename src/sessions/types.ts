/**
 * Storage-side shapes of chat messages and sessions, and the SessionStore
 * contract. No wire frames here: channels map these onto their protocols.
 */

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string }
  | { type: 'toolCall'; id: string; name: string; arguments: Record<string, unknown> }
  | { type: 'image'; source: { type: 'base64'; media_type: string; data: string } };

/** Tokens of a model call or a run, as the provider reported them. `input` excludes cache reads and writes. */
export interface Usage {
  input: number;
  output: number;
  totalTokens: number;
  cacheRead?: number;
  cacheWrite?: number;
  /** USD, when the model's price is known (provider.cost or the estimates table); absent means unknown, not free. */
  cost?: UsageCost;
}

/** What the tokens of a Usage cost, per kind and in total, USD. */
export interface UsageCost {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  total: number;
}

export type Role = 'user' | 'assistant' | 'toolResult';

/** Why an assistant message ended. `interrupted`: the process died mid-run. */
export type StopReason = 'stop' | 'length' | 'toolUse' | 'aborted' | 'error' | 'interrupted';

export interface StoredMessage {
  /** Stable message id (UUID). */
  id: string;
  role: Role;
  /** Always an array of blocks, user messages included. */
  content: ContentBlock[];
  /** Epoch ms. */
  timestamp: number;
  runId?: string;
  /** On user rows: the chat.send idempotency key. */
  idempotencyKey?: string;
  /** Assistant rows. */
  usage?: Usage;
  stopReason?: StopReason;
  errorMessage?: string;
  provider?: string;
  model?: string;
  /** toolResult rows. */
  toolCallId?: string;
  toolName?: string;
  isError?: boolean;
}

export interface SessionMeta {
  /** Canonical key `agent:<agentId>:<name>`. */
  key: string;
  agentId: string;
  /** UUID, stable across resets. */
  sessionId: string;
  label: string | null;
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
  /** Append one message, fsync'd before the promise resolves. Creates the session when new. */
  append(key: string, message: StoredMessage): Promise<SessionMeta>;
  /** Paged history; an unknown key gives an empty page. */
  history(key: string, query?: HistoryQuery): Promise<HistoryPage>;
  /** Drop every message, keep key, sessionId and label. False when unknown. */
  reset(key: string): Promise<boolean>;
  /**
   * Optional: the newest message of the session stored with this idempotency
   * key (chat.send retries after a restart), or undefined.
   */
  findByIdempotencyKey?(key: string, idempotencyKey: string): Promise<StoredMessage | undefined>;
  /**
   * Optional: runs a crash may have cut, per session: runIds whose user row
   * has no closing assistant row (any stopReason but toolUse). Exact and
   * cheap (no file reads), so start-up repair need not read every session.
   * Without it, callers must check every session's full history.
   */
  openRuns?(): { sessionKey: string; runIds: string[] }[];
  /** Remove the session. False when unknown. */
  delete(key: string): Promise<boolean>;
  /** Flush and release file handles. */
  close(): Promise<void>;
}
