/**
 * sessions.* methods and chat.subscribe (docs/protocol.md §3.2). Handlers return
 * payloads or throw GatewayError; session changes are announced on the bus.
 */

import * as v from 'valibot';
import type { AgentEvent, AgentService } from '../../../agent/types.js';
import { GatewayError, sessionNotFound } from '../../../protocol/errors.js';
import { DEFAULT_AGENT_ID, MAIN_SESSION_KEY, MAIN_SESSION_NAME } from '../../../sessions/session-key.js';
import type { SessionMeta, SessionStore } from '../../../sessions/types.js';
import { shapeSessionRow, type SessionDefaults, type SessionRow } from '../message-shape.js';
import type { MethodTable } from '../method-types.js';

/** sessions.list page size when the client gives none. */
export const DEFAULT_LIST_LIMIT = 50;
/** Largest sessions.list page. */
export const MAX_LIST_LIMIT = 500;
/** Longest session label, characters. */
export const MAX_LABEL_CHARS = 100;
/** How long delete/reset wait for aborted runs to write their partial reply, ms. */
export const ABORT_SETTLE_MS = 5_000;

export interface SessionMethodDeps {
  store: SessionStore;
  agent: AgentService;
  /** Raw client key → canonical key; throws GatewayError on an invalid key. */
  canonicalize: (raw: string) => string;
  defaults: SessionDefaults;
  /** Where session.changed events go (sessions.subscribe sockets). */
  bus?: { publish(event: AgentEvent): void };
}

const KeyString = v.pipe(v.string(), v.minLength(1));

const ListParams = v.object({
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  offset: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  includeLastMessage: v.optional(v.boolean()),
  includeDerivedTitles: v.optional(v.boolean()),
});
const KeyParams = v.object({ key: KeyString });
const ResolveParams = v.object({
  key: KeyString,
  includeUnknown: v.optional(v.boolean()),
  includeGlobal: v.optional(v.boolean()),
});
const PatchParams = v.object({
  key: KeyString,
  label: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(MAX_LABEL_CHARS)))),
});
const ResetParams = v.object({ key: KeyString, reason: v.optional(v.string()) });
const MessagesSubscribeParams = v.object({ key: KeyString, agentId: v.optional(v.string()) });
const ChatSubscribeParams = v.object({ sessionKey: v.optional(KeyString), friendlyId: v.optional(KeyString) });
const NoParams = v.object({});

/** Build the sessions.* entries and chat.subscribe. */
export function createSessionMethods(deps: SessionMethodDeps): MethodTable {
  const { store, agent, canonicalize, defaults } = deps;

  function publishChanged(sessionKey: string, reason: 'created' | 'patched' | 'reset' | 'deleted'): void {
    deps.bus?.publish({ type: 'session.changed', sessionKey, reason });
  }

  function activeKeys(): Set<string> {
    return new Set(agent.activeRuns().map((run) => run.sessionKey));
  }

  function entryOf(meta: SessionMeta): SessionRow {
    return shapeSessionRow(meta, { defaults, includeDerivedTitle: true, hasActiveRun: activeKeys().has(meta.key) });
  }

  /** Abort the session's runs and let them settle, so nothing writes to it afterwards. */
  async function stopRuns(key: string): Promise<void> {
    const runIds = agent.abort(key);
    await Promise.all(runIds.map((runId) => agent.wait(runId, ABORT_SETTLE_MS)));
  }

  return {
    'sessions.list': {
      params: ListParams,
      scope: 'operator.read',
      async handler(params) {
        const limit = Math.min(params.limit ?? DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
        const offset = params.offset ?? 0;
        const all = store.list();
        const page = all.slice(offset, offset + limit);
        const active = activeKeys();
        const sessions = await Promise.all(
          page.map(async (meta) => {
            const lastMessage =
              params.includeLastMessage === true
                ? ((await store.history(meta.key, { limit: 1 })).messages.at(-1) ?? null)
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
        const key = canonicalize(params.key);
        // The main session exists from the start (created lazily); WebClaw must never be told otherwise.
        if (key !== MAIN_SESSION_KEY && store.get(key) === undefined) throw sessionNotFound(params.key);
        return { ok: true, key, agentId: DEFAULT_AGENT_ID };
      },
    },

    'sessions.patch': {
      params: PatchParams,
      scope: 'operator.write',
      async handler(params) {
        const key = canonicalize(params.key);
        const existed = store.get(key) !== undefined;
        const meta = params.label === undefined ? await store.ensure(key) : await store.setLabel(key, labelOf(params.label));
        if (!existed) publishChanged(key, 'created');
        else if (params.label !== undefined) publishChanged(key, 'patched');
        return { ok: true, key, entry: entryOf(meta) };
      },
    },

    'sessions.delete': {
      params: KeyParams,
      scope: 'operator.write',
      async handler(params) {
        const key = canonicalize(params.key);
        if (key === MAIN_SESSION_KEY) throw new GatewayError('INVALID_REQUEST', 'cannot delete the main session');
        if (store.get(key) === undefined) return { ok: true, key, deleted: false };
        await stopRuns(key);
        const deleted = await store.delete(key);
        if (deleted) publishChanged(key, 'deleted');
        return { ok: true, key, deleted };
      },
    },

    'sessions.reset': {
      params: ResetParams,
      scope: 'operator.write',
      async handler(params) {
        const key = canonicalize(params.key);
        if (key !== MAIN_SESSION_KEY && store.get(key) === undefined) throw sessionNotFound(params.key);
        await stopRuns(key);
        // History after a reset is empty; no reset marker row (WebClaw renders only user/assistant/toolResult).
        if (!(await store.reset(key))) await store.ensure(key);
        const meta = store.get(key) ?? (await store.ensure(key));
        publishChanged(key, 'reset');
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
        return { subscribed: true, key };
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

/** A blank label clears it, like null. */
function labelOf(label: string | null): string | null {
  if (label === null) return null;
  const trimmed = label.trim();
  return trimmed === '' ? null : trimmed;
}
