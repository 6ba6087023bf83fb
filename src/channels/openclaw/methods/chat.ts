/**
 * chat.* methods (docs/protocol.md §3.3): history, message.get, send, abort,
 * inject. Each validates, calls the assistant and shapes the answer; a run's
 * progress reaches clients as bus events through the fan-out.
 */

import * as v from 'valibot';
import { MAX_IDEMPOTENCY_KEY_CHARS } from '../../../agent/idempotency.js';
import type { ChatTurn } from '../../../agent/types.js';
import type { Assistant } from '../../../assistant/types.js';
import { GatewayError, detailError } from '../../../protocol/errors.js';
import { MAX_SESSION_KEY_CHARS } from '../../../sessions/session-key.js';
import { byteLength, pageMessageText } from '../history-page.js';
import { buildHistoryPayload, RES_ENVELOPE_BYTES } from '../history-payload.js';
import { messageText } from '../../../messages/message-text.js';
import { shapeMessage } from '../message-shape.js';
import type { MethodTable } from '../method-types.js';

/** chat.history page size when the client gives none. */
export const DEFAULT_HISTORY_LIMIT = 200;
/** Most newest messages chat.history may skip with `offset` (the `nextOffset` of a page). */
export const MAX_HISTORY_OFFSET = 1_000_000;
/** Largest chat.history page. */
export const MAX_HISTORY_LIMIT = 1000;
/** Smallest maxBytes a client may ask for (chat.history, chat.message.get), bytes. */
export const MIN_PAGE_BYTES = 1024;
/** Longest message id accepted, characters. */
export const MAX_MESSAGE_ID_CHARS = 256;
/** Most attachments on one message. */
export const MAX_ATTACHMENTS = 16;
/** Longest chat.inject label, characters. */
export const MAX_INJECT_LABEL_CHARS = 100;
/** Bounds applied to a client's run timeout, ms. */
export const MIN_RUN_TIMEOUT_MS = 1_000;
export const MAX_RUN_TIMEOUT_MS = 3_600_000;

export interface ChatMethodDeps {
  assistant: Assistant;
  /** Raw client key → canonical key; throws GatewayError on an invalid key. */
  canonicalize: (raw: string) => string;
  /** policy.maxPayload: no chat.history res may exceed it, bytes. */
  maxPayloadBytes: number;
}

const SessionKeyString = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_SESSION_KEY_CHARS));

/** `{mimeType, content:<base64>}` as WebClaw and openclaw-node send it; extra fields ignored. */
export const AttachmentSchema = v.object({
  mimeType: v.optional(v.string()),
  content: v.string(),
});
export const AttachmentsSchema = v.pipe(v.array(AttachmentSchema), v.maxLength(MAX_ATTACHMENTS));

const HistoryParams = v.object({
  sessionKey: SessionKeyString,
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_HISTORY_LIMIT))),
  maxChars: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  maxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(MIN_PAGE_BYTES))),
  offset: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_HISTORY_OFFSET))),
});
const MessageGetParams = v.object({
  sessionKey: SessionKeyString,
  messageId: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_MESSAGE_ID_CHARS)),
  offset: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  maxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(MIN_PAGE_BYTES))),
});
const SendParams = v.object({
  sessionKey: SessionKeyString,
  message: v.string(),
  // Any value is tolerated: rejecting a level the model lacks breaks WebClaw (Appendix A.8).
  thinking: v.optional(v.unknown()),
  deliver: v.optional(v.unknown()),
  timeoutMs: v.optional(v.number()),
  attachments: v.optional(AttachmentsSchema),
  idempotencyKey: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_IDEMPOTENCY_KEY_CHARS))),
});
const AbortParams = v.object({
  sessionKey: SessionKeyString,
  runId: v.optional(v.pipe(v.string(), v.minLength(1))),
});
const InjectParams = v.object({
  sessionKey: SessionKeyString,
  message: v.string(),
  label: v.optional(v.pipe(v.string(), v.maxLength(MAX_INJECT_LABEL_CHARS))),
});

/** Build chat.history, chat.send, chat.abort and chat.inject. */
export function createChatMethods(deps: ChatMethodDeps): MethodTable {
  const { assistant, canonicalize } = deps;

  return {
    'chat.history': {
      params: HistoryParams,
      scope: 'operator.read',
      async handler(params, ctx) {
        const sessionKey = canonicalize(params.sessionKey);
        ctx.watchSession(sessionKey);
        const payload = await buildHistoryPayload(assistant, sessionKey, {
          limit: params.limit ?? DEFAULT_HISTORY_LIMIT,
          offset: params.offset,
          maxChars: params.maxChars,
          maxBytes: params.maxBytes,
          maxPayloadBytes: deps.maxPayloadBytes,
        });
        return payload;
      },
    },

    // A message too large for one frame arrives cut in chat.history and in its final event; this reads the rest.
    'chat.message.get': {
      params: MessageGetParams,
      scope: 'operator.read',
      async handler(params) {
        const sessionKey = canonicalize(params.sessionKey);
        const { messages } = await assistant.history(sessionKey);
        const index = messages.findIndex((m) => m.id === params.messageId);
        if (index < 0) {
          throw detailError('MESSAGE_NOT_FOUND', `message not found: ${params.messageId}`);
        }
        const stored = messages[index]!;
        const text = messageText(stored);
        const offset = params.offset ?? 0;
        if (offset > text.length) {
          throw new GatewayError('INVALID_REQUEST', `invalid chat.message.get params: at /offset: must be <= ${text.length} (the text length)`);
        }
        const head = { sessionKey, messageId: stored.id };
        const budget = Math.min(params.maxBytes ?? Number.POSITIVE_INFINITY, deps.maxPayloadBytes - RES_ENVELOPE_BYTES) - byteLength(head) - PAGE_FIELDS_BYTES;
        const page = pageMessageText(shapeMessage(stored, { seq: index + 1 }), text, offset, budget);
        if (page === undefined) throw new GatewayError('INVALID_REQUEST', 'invalid chat.message.get params: at /maxBytes: too small for this message');
        return { ...head, ...page };
      },
    },

    'chat.send': {
      params: SendParams,
      scope: 'operator.write',
      async handler(params, ctx) {
        const sessionKey = canonicalize(params.sessionKey);
        const images = toImages(params.attachments, 'chat.send');
        if (params.message === '' && images.length === 0) {
          throw new GatewayError('INVALID_REQUEST', 'invalid chat.send params: message must not be empty without attachments');
        }
        const turn: ChatTurn = { sessionKey, text: params.message };
        if (images.length > 0) turn.images = images;
        if (params.idempotencyKey !== undefined) turn.idempotencyKey = params.idempotencyKey;
        const thinking = toThinkingLevel(params.thinking);
        if (thinking !== undefined) turn.thinking = thinking;
        const timeoutMs = toRunTimeoutMs(params.timeoutMs);
        if (timeoutMs !== undefined) turn.timeoutMs = timeoutMs;
        ctx.watchSession(sessionKey);
        // submit resolves once the user message is durable: only then may we ack (§3.3).
        const result = await assistant.send(turn);
        return { runId: result.runId, status: result.status };
      },
    },

    'chat.abort': {
      params: AbortParams,
      scope: 'operator.write',
      handler(params) {
        const sessionKey = canonicalize(params.sessionKey);
        const runIds = assistant.abort(sessionKey, params.runId);
        return { ok: true, aborted: runIds.length > 0, runIds };
      },
    },

    'chat.inject': {
      params: InjectParams,
      scope: 'operator.write',
      async handler(params, ctx) {
        const sessionKey = canonicalize(params.sessionKey);
        const message = await assistant.inject(sessionKey, { text: params.message, label: params.label });
        ctx.watchSession(sessionKey);
        return { ok: true, messageId: message.id };
      },
    },
  };
}

/** `offset`, `nextOffset`, `totalChars`, `hasMore` and `message` keys of a chat.message.get page, bytes. */
const PAGE_FIELDS_BYTES = 128;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,/;

/** Attachments → image blocks for the turn. Anything that is not a base64 image is refused. */
export function toImages(
  attachments: v.InferOutput<typeof AttachmentsSchema> | undefined,
  method: string,
): NonNullable<ChatTurn['images']> {
  if (attachments === undefined) return [];
  return attachments.map((attachment, i) => {
    let data = attachment.content;
    let mediaType = attachment.mimeType;
    const dataUrl = DATA_URL.exec(data);
    if (dataUrl !== null) {
      mediaType ??= dataUrl[1];
      data = data.slice(dataUrl[0].length);
    }
    data = data.replace(/\s+/g, '');
    if (mediaType === undefined || !/^image\/[a-z0-9.+-]+$/i.test(mediaType)) {
      throw new GatewayError('INVALID_REQUEST', `invalid ${method} params: at /attachments/${i}: only image attachments are supported`);
    }
    if (data.length === 0 || data.length % 4 !== 0 || !BASE64.test(data)) {
      throw new GatewayError('INVALID_REQUEST', `invalid ${method} params: at /attachments/${i}/content: must be base64`);
    }
    return { mediaType: mediaType.toLowerCase(), data };
  });
}

/** Client thinking level → what the agent understands; unknown values mean "default". */
export function toThinkingLevel(value: unknown): ChatTurn['thinking'] {
  if (typeof value !== 'string') return undefined;
  switch (value.toLowerCase()) {
    case 'minimal':
    case 'low':
      return 'low';
    case 'medium':
      return 'medium';
    case 'high':
    case 'xhigh':
      return 'high';
    default:
      return undefined;
  }
}

/** A client run timeout, clamped to sane bounds; absent or non-positive means the default. */
export function toRunTimeoutMs(value: number | undefined): number | undefined {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return undefined;
  return Math.min(Math.max(Math.round(value), MIN_RUN_TIMEOUT_MS), MAX_RUN_TIMEOUT_MS);
}
