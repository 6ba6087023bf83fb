/**
 * Session methods of the Control UI's chat page (docs/protocol.md §3.9):
 * sessions.create (a new session, optionally with its first message),
 * sessions.describe (one row) and sessions.viewers.set (the sessions a tab
 * shows, whose chat events it then receives).
 */

import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { MAX_IDEMPOTENCY_KEY_CHARS } from '../../../agent/idempotency.js';
import type { ChatTurn } from '../../../agent/types.js';
import type { Assistant } from '../../../assistant/types.js';
import { GatewayError } from '../../../protocol/errors.js';
import { DEFAULT_AGENT_ID, MAX_SESSION_KEY_CHARS, parseSessionKey } from '../../../sessions/session-key.js';
import { shapeSessionRow, type SessionDefaults } from '../message-shape.js';
import type { MethodTable } from '../method-types.js';
import { MAX_LABEL_CHARS } from './sessions.js';

/** Most sessions one sessions.viewers.set may name. */
export const MAX_VIEWED_SESSIONS = 100;
/** Where sessions.create puts a session given no key (OpenClaw's Control UI uses the same form). */
const NEW_SESSION_PREFIX = 'dashboard';

export interface SessionPageDeps {
  assistant: Assistant;
  /** Raw client key → canonical key; throws GatewayError on an invalid key or unknown agent. */
  canonicalize: (raw: string) => string;
  defaults: SessionDefaults;
}

const KeyString = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_SESSION_KEY_CHARS));
const AgentIdString = v.pipe(v.string(), v.minLength(1), v.maxLength(128));

const CreateParams = v.object({
  key: v.optional(KeyString),
  agentId: v.optional(AgentIdString),
  label: v.optional(v.pipe(v.string(), v.maxLength(MAX_LABEL_CHARS))),
  message: v.optional(v.string()),
  idempotencyKey: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_IDEMPOTENCY_KEY_CHARS))),
});
const DescribeParams = v.object({ key: KeyString, agentId: v.optional(AgentIdString) });
const ViewersParams = v.object({ sessionKeys: v.pipe(v.array(KeyString), v.maxLength(MAX_VIEWED_SESSIONS)) });

/** Build sessions.create, sessions.describe and sessions.viewers.set. */
export function createSessionPageMethods(deps: SessionPageDeps): MethodTable {
  const { assistant, canonicalize, defaults } = deps;

  function rowOf(key: string): ReturnType<typeof shapeSessionRow> | null {
    const meta = assistant.describe(key);
    if (meta === undefined) return null;
    return shapeSessionRow(meta, { defaults, includeDerivedTitle: true, hasActiveRun: assistant.activeSessionKeys().has(key) });
  }

  return {
    'sessions.create': {
      params: CreateParams,
      scope: 'operator.write',
      async handler(params, ctx) {
        const key = keyForCreate(params.key, params.agentId, canonicalize);
        const meta = await assistant.patch(key, params.label === undefined ? {} : { label: params.label });
        ctx.watchSession(key);
        const row = rowOf(key);
        const payload: Record<string, unknown> = {
          ok: true,
          key,
          sessionId: meta.sessionId,
          entry: row,
          resolved: { modelProvider: row?.modelProvider ?? defaults.provider, model: row?.model ?? defaults.model },
        };
        if (params.message === undefined || params.message.trim() === '') return { ...payload, runStarted: false };
        const turn: ChatTurn = { sessionKey: key, text: params.message };
        if (params.idempotencyKey !== undefined) turn.idempotencyKey = params.idempotencyKey;
        // The session exists now whatever the turn does: a refused turn is reported, not thrown, so the
        // client keeps the prompt and can retry against the returned key.
        try {
          const result = await assistant.send(turn);
          return { ...payload, runStarted: true, runId: result.runId, status: result.status };
        } catch (error) {
          if (!(error instanceof GatewayError)) throw error;
          return { ...payload, runStarted: false, runError: error.toShape() };
        }
      },
    },

    'sessions.describe': {
      params: DescribeParams,
      scope: 'operator.read',
      handler(params) {
        return { session: rowOf(withAgent(params.key, params.agentId, canonicalize)) };
      },
    },

    'sessions.viewers.set': {
      params: ViewersParams,
      scope: 'operator.read',
      handler(params: v.InferOutput<typeof ViewersParams>, ctx) {
        const sessionKeys = [...new Set(params.sessionKeys.map((raw) => canonicalize(raw)))];
        for (const key of sessionKeys) ctx.watchSession(key);
        return { sessionKeys };
      },
    },
  };
}

/** The key sessions.create uses: the client's (made canonical, under `agentId` when short), else a new dashboard key. */
function keyForCreate(raw: string | undefined, agentId: string | undefined, canonicalize: (raw: string) => string): string {
  if (raw !== undefined) return withAgent(raw, agentId, canonicalize);
  return canonicalize(`agent:${agentId ?? DEFAULT_AGENT_ID}:${NEW_SESSION_PREFIX}:${randomUUID()}`);
}

/** A client key under the agent it names, or under `agentId` when it is short; the two must agree. */
function withAgent(raw: string, agentId: string | undefined, canonicalize: (raw: string) => string): string {
  const isShort = !raw.toLowerCase().startsWith('agent:');
  const key = canonicalize(isShort && agentId !== undefined ? `agent:${agentId}:${raw}` : raw);
  if (agentId !== undefined && parseSessionKey(key).agentId !== agentId.toLowerCase()) {
    throw new GatewayError('INVALID_REQUEST', `invalid params: at /agentId: the key belongs to agent ${parseSessionKey(key).agentId}`);
  }
  return key;
}
