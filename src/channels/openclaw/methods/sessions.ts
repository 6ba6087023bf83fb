/**
 * sessions.* methods and chat.subscribe (docs/protocol.md §3.2). Handlers
 * validate, call the assistant (which announces session changes) and shape
 * the answer, or throw GatewayError.
 */

import * as v from 'valibot';
import type { Assistant } from '../../../assistant/types.js';
import { detailError, GatewayError, sessionNotFound } from '../../../protocol/errors.js';
import { MAIN_SESSION_KEY, MAIN_SESSION_NAME, parseSessionKey } from '../../../sessions/session-key.js';
import type { SessionMeta } from '../../../sessions/types.js';
import { shapeSessionRow, type SessionDefaults, type SessionRow } from '../message-shape.js';
import type { MethodTable } from '../method-types.js';

/** sessions.list page size when the client gives none. */
export const DEFAULT_LIST_LIMIT = 50;
/** Largest sessions.list page. */
export const MAX_LIST_LIMIT = 500;
/** Longest session label, characters. */
export const MAX_LABEL_CHARS = 100;
/** Longest model reference sessions.patch accepts, characters. */
const MAX_MODEL_REF_CHARS = 300;

export interface SessionMethodDeps {
  assistant: Assistant;
  /** Raw client key → canonical key; throws GatewayError on an invalid key. */
  canonicalize: (raw: string) => string;
  defaults: SessionDefaults;
  /** The configured models a session may choose with sessions.patch { model }. */
  models?: ModelChoices;
}

/** What sessions.patch needs of the model catalog. */
export interface ModelChoices {
  /** By `kind/model`, or a bare model id served by one kind only. */
  find(reference: string): { ref: string } | undefined;
  list(): readonly { ref: string }[];
}

/** What sessions.patch accepts as "back to the configured default". */
const DEFAULT_MODEL_WORDS = new Set(['', 'default']);

const KeyString = v.pipe(v.string(), v.minLength(1));

const ListParams = v.object({
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  offset: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  includeLastMessage: v.optional(v.boolean()),
  includeDerivedTitles: v.optional(v.boolean()),
});
const KeyParams = v.object({ key: KeyString });
/** One selector of key, sessionId, label or shortId (the Control UI's URL form of a key's UUID). */
const ResolveParams = v.pipe(
  v.object({
    key: v.optional(KeyString),
    sessionId: v.optional(KeyString),
    label: v.optional(KeyString),
    shortId: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f-]{8,36}$/i, 'expected the hex digits of a session UUID'))),
    slugHint: v.optional(v.string()),
    agentId: v.optional(v.string()),
    allowMissing: v.optional(v.boolean()),
    includeUnknown: v.optional(v.boolean()),
    includeGlobal: v.optional(v.boolean()),
  }),
  v.check((p) => [p.key, p.sessionId, p.label, p.shortId].some((selector) => selector !== undefined), 'expected one of key, sessionId, label or shortId'),
);
const PatchParams = v.object({
  key: KeyString,
  label: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(MAX_LABEL_CHARS)))),
  /** `kind/model` or a model id of the configured ones; null or "default" returns to the configured chain. */
  model: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(MAX_MODEL_REF_CHARS)))),
});
const ResetParams = v.object({ key: KeyString, reason: v.optional(v.string()) });
const MessagesSubscribeParams = v.object({ key: KeyString, agentId: v.optional(v.string()), includeApprovals: v.optional(v.boolean()) });
const ChatSubscribeParams = v.object({ sessionKey: v.optional(KeyString), friendlyId: v.optional(KeyString) });
const NoParams = v.object({});

/** Build the sessions.* entries and chat.subscribe. */
export function createSessionMethods(deps: SessionMethodDeps): MethodTable {
  const { assistant, canonicalize, defaults } = deps;

  function entryOf(meta: SessionMeta): SessionRow {
    return shapeSessionRow(meta, { defaults, includeDerivedTitle: true, hasActiveRun: assistant.activeSessionKeys().has(meta.key) });
  }

  return {
    'sessions.list': {
      params: ListParams,
      scope: 'operator.read',
      async handler(params) {
        const limit = Math.min(params.limit ?? DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
        const offset = params.offset ?? 0;
        const all = assistant.list();
        const page = all.slice(offset, offset + limit);
        const active = assistant.activeSessionKeys();
        const sessions = await Promise.all(
          page.map(async (meta) => {
            const lastMessage =
              params.includeLastMessage === true
                ? ((await assistant.history(meta.key, { limit: 1 })).messages.at(-1) ?? null)
                : undefined;
            return shapeSessionRow(meta, {
              defaults,
              includeDerivedTitle: params.includeDerivedTitles === true,
              hasActiveRun: active.has(meta.key),
              lastMessage,
            });
          }),
        );
        const hasMore = offset + sessions.length < all.length;
        return {
          ts: Date.now(),
          count: sessions.length,
          totalCount: all.length,
          limitApplied: limit,
          nextOffset: hasMore ? offset + sessions.length : null,
          hasMore,
          defaults: { modelProvider: defaults.provider, model: defaults.model, contextTokens: defaults.contextTokens },
          sessions,
        };
      },
    },

    'sessions.resolve': {
      params: ResolveParams,
      scope: 'operator.read',
      handler(params) {
        const found = resolveSession(params, assistant, canonicalize);
        if (found === undefined) {
          if (params.allowMissing === true) return { ok: false };
          throw sessionNotFound(params.key ?? params.sessionId ?? params.label ?? params.shortId ?? '');
        }
        const payload: Record<string, unknown> = { ok: true, key: found.key, agentId: parseSessionKey(found.key).agentId };
        const displayName = found.meta?.label ?? found.meta?.derivedTitle ?? null;
        if (displayName !== null) payload.displayName = displayName;
        return payload;
      },
    },

    'sessions.patch': {
      params: PatchParams,
      scope: 'operator.write',
      async handler(params) {
        const key = canonicalize(params.key);
        // Checked before anything is written, so a bad model leaves the session untouched.
        const model = params.model === undefined ? undefined : chosenModel(params.model, deps.models);
        const meta = await assistant.patch(key, { label: params.label, model });
        return { ok: true, key, entry: entryOf(meta) };
      },
    },

    'sessions.delete': {
      params: KeyParams,
      scope: 'operator.write',
      async handler(params) {
        const key = canonicalize(params.key);
        const deleted = await assistant.delete(key);
        return { ok: true, key, deleted };
      },
    },

    'sessions.reset': {
      params: ResetParams,
      scope: 'operator.write',
      async handler(params) {
        const key = canonicalize(params.key);
        const meta = await assistant.reset(key);
        if (meta === undefined) throw sessionNotFound(params.key);
        return { ok: true, key, entry: entryOf(meta) };
      },
    },

    'sessions.subscribe': {
      params: NoParams,
      scope: 'operator.read',
      handler(_params, ctx) {
        ctx.setSessionsSubscribed(true);
        return { subscribed: true };
      },
    },

    'sessions.unsubscribe': {
      params: NoParams,
      scope: 'operator.read',
      handler(_params, ctx) {
        ctx.setSessionsSubscribed(false);
        return { subscribed: false };
      },
    },

    'sessions.messages.subscribe': {
      params: MessagesSubscribeParams,
      scope: 'operator.read',
      handler(params, ctx) {
        const key = canonicalize(params.key);
        ctx.setMessagesSubscribed(key, true);
        if (params.includeApprovals !== true) return { subscribed: true, key };
        // Nothing in Pincer waits for an approval, so the replay is complete and empty.
        return { subscribed: true, key, approvalReplay: { sessionKey: key, updatedAtMs: Date.now(), approvals: [], truncated: false } };
      },
    },

    'sessions.messages.unsubscribe': {
      params: MessagesSubscribeParams,
      scope: 'operator.read',
      handler(params, ctx) {
        const key = canonicalize(params.key);
        ctx.setMessagesSubscribed(key, false);
        return { subscribed: false, key };
      },
    },

    // WebClaw/PicoClaw fork only. Chat events reach every read socket anyway (§4.1), so this just
    // marks the socket as a watcher and never fails for a well-formed key.
    'chat.subscribe': {
      params: ChatSubscribeParams,
      scope: 'operator.read',
      handler(params, ctx) {
        const sessionKey = canonicalize(params.sessionKey ?? params.friendlyId ?? MAIN_SESSION_NAME);
        ctx.watchSession(sessionKey);
        return { subscribed: true, sessionKey };
      },
    },
  };
}

/** The `kind/model` to store, or null to clear; an unknown model is INVALID_REQUEST listing the configured ones. */
function chosenModel(requested: string | null, models: ModelChoices | undefined): string | null {
  if (requested === null || DEFAULT_MODEL_WORDS.has(requested.trim().toLowerCase())) return null;
  const found = models?.find(requested);
  if (found !== undefined) return found.ref;
  const configured = (models?.list() ?? []).map((entry) => entry.ref);
  const choices = configured.length === 0 ? 'no model is configured' : `configured models: ${configured.join(', ')}`;
  throw detailError('UNKNOWN_MODEL', `unknown model ${JSON.stringify(requested)}: ${choices}`, { extra: { field: 'model' } });
}

/** The session a sessions.resolve selector names: by key (the main session always exists), id, label or short id. */
function resolveSession(
  params: v.InferOutput<typeof ResolveParams>,
  assistant: Assistant,
  canonicalize: (raw: string) => string,
): { key: string; meta: SessionMeta | undefined } | undefined {
  if (params.key !== undefined) {
    const key = canonicalize(params.key);
    const meta = assistant.describe(key);
    // The main session exists from the start (created lazily); WebClaw must never be told otherwise.
    return meta !== undefined || key === MAIN_SESSION_KEY ? { key, meta } : undefined;
  }
  const agentId = params.agentId?.toLowerCase();
  const candidates = assistant.list().filter((meta) => agentId === undefined || parseSessionKey(meta.key).agentId === agentId);
  let meta: SessionMeta | undefined;
  if (params.sessionId !== undefined) meta = candidates.find((m) => m.sessionId === params.sessionId);
  else if (params.label !== undefined) meta = candidates.find((m) => m.label === params.label);
  else if (params.shortId !== undefined) {
    const shortId = params.shortId.replaceAll('-', '').toLowerCase();
    meta = candidates.find((m) => (m.key.split(':').at(-1) ?? '').replaceAll('-', '') === shortId);
  }
  return meta === undefined ? undefined : { key: meta.key, meta };
}
