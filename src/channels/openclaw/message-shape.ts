/**
 * Stored messages and session metadata as OpenClaw clients expect them on the
 * wire (docs/protocol.md §5.1 and the sessions.list row of §3.2). Content is always
 * a block array, user rows included: WebClaw renders a plain string as an
 * empty bubble. Nothing here carries a filesystem path.
 */

import type { ContentBlock, UsageCost } from '../../messages/types.js';
import { DEFAULT_AGENT_ID } from '../../sessions/session-key.js';
import type { SessionMeta, StoredMessage } from '../../sessions/types.js';


export interface WireUsage {
  input: number;
  output: number;
  totalTokens: number;
  cacheRead: number;
  cacheWrite: number;
  /** USD; absent when the model's price is unknown. */
  cost?: UsageCost;
}

export interface WireMessage {
  role: StoredMessage['role'];
  content: ContentBlock[];
  id: string;
  timestamp: number;
  __openclaw: { id: string; seq?: number; runId?: string; idempotencyKey?: string };
  idempotencyKey?: string;
  stopReason?: string;
  errorMessage?: string;
  usage?: WireUsage;
  provider?: string;
  model?: string;
  toolCallId?: string;
  toolName?: string;
  isError?: boolean;
}

export interface ShapeOptions {
  /** 1-based position of the message in its session's history, when known. */
  seq?: number;
  /** Cut every text and thinking block to this many characters (chat.history maxChars). */
  maxChars?: number;
}

/** StoredMessage → the §5.1 wire message. */
export function shapeMessage(message: StoredMessage, options: ShapeOptions = {}): WireMessage {
  const meta: WireMessage['__openclaw'] = { id: message.id };
  if (options.seq !== undefined) meta.seq = options.seq;
  const wire: WireMessage = {
    role: message.role,
    content: shapeContent(message.content, options.maxChars),
    id: message.id,
    timestamp: message.timestamp,
    __openclaw: meta,
  };
  if (message.role === 'user') {
    if (message.idempotencyKey !== undefined) {
      // OpenClaw suffixes the chat.send key on user rows (observed A-12).
      const key = message.idempotencyKey.endsWith(':user') ? message.idempotencyKey : `${message.idempotencyKey}:user`;
      wire.idempotencyKey = key;
      meta.idempotencyKey = key;
    }
    return wire;
  }
  if (message.runId !== undefined) meta.runId = message.runId;
  if (message.role === 'assistant') {
    if (message.stopReason !== undefined) wire.stopReason = message.stopReason;
    if (message.errorMessage !== undefined) wire.errorMessage = message.errorMessage;
    if (message.usage !== undefined) wire.usage = shapeUsage(message.usage);
    if (message.provider !== undefined) wire.provider = message.provider;
    if (message.model !== undefined) wire.model = message.model;
    return wire;
  }
  wire.toolCallId = message.toolCallId ?? '';
  wire.toolName = message.toolName ?? '';
  wire.isError = message.isError === true;
  return wire;
}

/** Usage with every counter present (clients sum them without checks). */
export function shapeUsage(usage: StoredMessage['usage']): WireUsage {
  const wire: WireUsage = {
    input: usage?.input ?? 0,
    output: usage?.output ?? 0,
    totalTokens: usage?.totalTokens ?? 0,
    cacheRead: usage?.cacheRead ?? 0,
    cacheWrite: usage?.cacheWrite ?? 0,
  };
  if (usage?.cost !== undefined) wire.cost = { ...usage.cost };
  return wire;
}

function shapeContent(content: readonly ContentBlock[] | undefined, maxChars: number | undefined): ContentBlock[] {
  if (!Array.isArray(content)) return [];
  if (maxChars === undefined) return content.slice();
  return content.map((block) => {
    if (block.type === 'text' && block.text.length > maxChars) return { type: 'text', text: block.text.slice(0, maxChars) };
    if (block.type === 'thinking' && block.thinking.length > maxChars) {
      return { type: 'thinking', thinking: block.thinking.slice(0, maxChars) };
    }
    return block;
  });
}

/** Model defaults reported with every session row. */
export interface SessionDefaults {
  model: string;
  provider: string;
  contextTokens: number;
}

export interface SessionRow {
  key: string;
  sessionId: string;
  label: string | null;
  displayName: string | null;
  derivedTitle: string | null;
  title: string | null;
  createdAt: number;
  updatedAt: number;
  totalTokens: number;
  contextTokens: number;
  inputTokens: number;
  outputTokens: number;
  kind: 'direct';
  agentId: string;
  model: string;
  modelProvider: string;
  messageCount: number;
  hasActiveRun: boolean;
  lastRunId: string | null;
  status?: 'running' | 'done';
  lastMessage?: WireMessage | null;
}

export interface SessionRowOptions {
  defaults: SessionDefaults;
  /** Fill derivedTitle/title (sessions.list includeDerivedTitles). */
  includeDerivedTitle?: boolean;
  hasActiveRun?: boolean;
  /** Present only when the caller asked for it: a message, or null for an empty session. */
  lastMessage?: StoredMessage | null;
}

/** SessionMeta → one sessions.list row (§3.2). */
export function shapeSessionRow(meta: SessionMeta, options: SessionRowOptions): SessionRow {
  const active = options.hasActiveRun === true;
  const derived = options.includeDerivedTitle === true ? meta.derivedTitle : null;
  const row: SessionRow = {
    key: meta.key,
    sessionId: meta.sessionId,
    label: meta.label,
    displayName: meta.label,
    derivedTitle: derived,
    title: derived,
    createdAt: meta.createdAt,
    updatedAt: meta.updatedAt,
    totalTokens: meta.totalTokens,
    contextTokens: options.defaults.contextTokens,
    inputTokens: meta.inputTokens,
    outputTokens: meta.outputTokens,
    kind: 'direct',
    agentId: meta.agentId || DEFAULT_AGENT_ID,
    ...rowModel(meta, options.defaults),
    messageCount: meta.messageCount,
    hasActiveRun: active,
    lastRunId: meta.lastRunId,
  };
  if (active) row.status = 'running';
  else if (meta.lastRunId !== null) row.status = 'done';
  if (options.lastMessage !== undefined) {
    row.lastMessage = options.lastMessage === null ? null : shapeMessage(options.lastMessage, { seq: meta.messageCount });
  }
  return row;
}

/** The session's chosen model (`kind/model`), else the configured default. */
function rowModel(meta: SessionMeta, defaults: SessionDefaults): { model: string; modelProvider: string } {
  if (meta.model === undefined) return { model: defaults.model, modelProvider: defaults.provider };
  const slash = meta.model.indexOf('/');
  return { model: meta.model.slice(slash + 1), modelProvider: meta.model.slice(0, slash) };
}
