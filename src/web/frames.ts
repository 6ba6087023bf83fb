/**
 * Schemas for everything the page reads off the wire (docs/protocol.md §1, §3, §4.1, §5).
 * Parsed JSON is validated here and nowhere cast; unknown keys are dropped.
 */

import * as v from 'valibot';

const ErrorSchema = v.object({
  code: v.string(),
  message: v.string(),
  details: v.optional(v.record(v.string(), v.unknown())),
  retryable: v.optional(v.boolean()),
  retryAfterMs: v.optional(v.number()),
});

/** `res.error` as the page keeps it. */
export type WireError = v.InferOutput<typeof ErrorSchema>;

const FrameSchema = v.variant('type', [
  v.object({
    type: v.literal('res'),
    id: v.string(),
    ok: v.boolean(),
    payload: v.optional(v.unknown()),
    error: v.optional(ErrorSchema),
  }),
  v.object({
    type: v.literal('event'),
    event: v.string(),
    payload: v.optional(v.unknown()),
    seq: v.optional(v.number()),
  }),
]);

export type Frame = v.InferOutput<typeof FrameSchema>;

/** Parse one text frame; null when it is not JSON or not a frame we understand. */
export function parseFrame(text: string): Frame | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const result = v.safeParse(FrameSchema, json);
  return result.success ? result.output : null;
}

const HelloSchema = v.object({
  type: v.literal('hello-ok'),
  policy: v.optional(v.object({ tickIntervalMs: v.optional(v.number()) })),
});

/** The bits of `hello-ok` the page uses; null when the payload is not a hello. */
export function parseHello(payload: unknown): { tickIntervalMs: number | undefined } | null {
  const result = v.safeParse(HelloSchema, payload);
  return result.success ? { tickIntervalMs: result.output.policy?.tickIntervalMs } : null;
}

const BlockSchema = v.variant('type', [
  v.object({ type: v.literal('text'), text: v.string() }),
  v.object({ type: v.literal('thinking'), thinking: v.string() }),
  v.object({
    type: v.literal('toolCall'),
    id: v.optional(v.string()),
    name: v.string(),
    arguments: v.optional(v.unknown()),
  }),
  v.object({ type: v.literal('image') }),
]);

/** A content block the page knows how to show. */
export type Block = v.InferOutput<typeof BlockSchema>;

const MessageSchema = v.object({
  id: v.optional(v.string()),
  role: v.string(),
  content: v.optional(v.union([v.string(), v.array(v.unknown())])),
  timestamp: v.optional(v.number()),
  stopReason: v.optional(v.string()),
  errorMessage: v.optional(v.string()),
  toolName: v.optional(v.string()),
  isError: v.optional(v.boolean()),
});

/** A chat message normalised for rendering: unknown blocks dropped, string content made a text block. */
export interface ChatMessage {
  id?: string;
  role: string;
  blocks: Block[];
  timestamp?: number;
  stopReason?: string;
  errorMessage?: string;
  toolName?: string;
  isError?: boolean;
}

/** Parse a message object (§5.1); null when it is not one. */
export function parseMessage(value: unknown): ChatMessage | null {
  const result = v.safeParse(MessageSchema, value);
  if (!result.success) return null;
  const { content, ...rest } = result.output;
  let blocks: Block[] = [];
  if (typeof content === 'string') blocks = [{ type: 'text', text: content }];
  else if (content) {
    for (const raw of content) {
      const block = v.safeParse(BlockSchema, raw);
      if (block.success) blocks.push(block.output);
    }
  }
  return { ...rest, blocks };
}

const HistorySchema = v.object({
  sessionKey: v.string(),
  messages: v.array(v.unknown()),
  hasMore: v.optional(v.boolean()),
});

/** `chat.history` result with its messages parsed; malformed rows are skipped. */
export function parseHistory(payload: unknown): { sessionKey: string; messages: ChatMessage[]; hasMore: boolean } | null {
  const result = v.safeParse(HistorySchema, payload);
  if (!result.success) return null;
  const messages: ChatMessage[] = [];
  for (const raw of result.output.messages) {
    const message = parseMessage(raw);
    if (message) messages.push(message);
  }
  return { sessionKey: result.output.sessionKey, messages, hasMore: result.output.hasMore ?? false };
}

const SessionRowSchema = v.object({
  key: v.string(),
  label: v.nullish(v.string()),
  displayName: v.nullish(v.string()),
  derivedTitle: v.nullish(v.string()),
  title: v.nullish(v.string()),
  updatedAt: v.nullish(v.number()),
  lastMessage: v.nullish(v.unknown()),
  hasActiveRun: v.optional(v.boolean()),
  lastRunId: v.nullish(v.string()),
});

/** One `sessions.list` row as the sidebar uses it. */
export interface SessionRow {
  key: string;
  title: string | null;
  updatedAt: number;
  preview: string;
  hasActiveRun: boolean;
  lastRunId: string | null;
}

const SessionListSchema = v.object({ sessions: v.array(v.unknown()) });

/** `sessions.list` result; malformed rows are skipped. */
export function parseSessionList(payload: unknown): SessionRow[] | null {
  const result = v.safeParse(SessionListSchema, payload);
  if (!result.success) return null;
  const rows: SessionRow[] = [];
  for (const raw of result.output.sessions) {
    const row = v.safeParse(SessionRowSchema, raw);
    if (!row.success) continue;
    const r = row.output;
    const last = r.lastMessage === undefined || r.lastMessage === null ? null : parseMessage(r.lastMessage);
    rows.push({
      key: r.key,
      title: r.label || r.displayName || r.derivedTitle || r.title || null,
      updatedAt: r.updatedAt ?? 0,
      preview: last ? messageText(last) : '',
      hasActiveRun: r.hasActiveRun ?? false,
      lastRunId: r.lastRunId ?? null,
    });
  }
  return rows;
}

const ChatEventSchema = v.object({
  runId: v.string(),
  sessionKey: v.string(),
  state: v.string(),
  message: v.optional(v.unknown()),
  errorMessage: v.optional(v.string()),
  stopReason: v.optional(v.string()),
});

/** A `chat` event (§4.1). `state` is delta, final, aborted or error; other states are ignored by callers. */
export interface ChatEvent {
  runId: string;
  sessionKey: string;
  state: string;
  message: ChatMessage | null;
  errorMessage?: string;
  stopReason?: string;
}

/** Parse a `chat` event payload; null when malformed. */
export function parseChatEvent(payload: unknown): ChatEvent | null {
  const result = v.safeParse(ChatEventSchema, payload);
  if (!result.success) return null;
  const { message, ...rest } = result.output;
  return { ...rest, message: message === undefined ? null : parseMessage(message) };
}

const KeySchema = v.object({ key: v.string() });

/** `key` of a sessions.patch / sessions.delete result. */
export function parseKeyResult(payload: unknown): string | null {
  const result = v.safeParse(KeySchema, payload);
  return result.success && result.output.key !== '' ? result.output.key : null;
}

const RunSchema = v.object({ runId: v.string() });

/** `runId` of a chat.send result. */
export function parseRunResult(payload: unknown): string | null {
  const result = v.safeParse(RunSchema, payload);
  return result.success ? result.output.runId : null;
}

/** Plain text of a message's text blocks, joined. */
export function messageText(message: ChatMessage): string {
  return message.blocks
    .map((block) => (block.type === 'text' ? block.text : ''))
    .filter((text) => text !== '')
    .join('\n');
}
