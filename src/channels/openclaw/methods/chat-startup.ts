/**
 * What the Control UI's chat view loads when it opens a session
 * (docs/protocol.md §3.9): chat.startup (a page of history with the session's
 * summary, its model defaults and any run in flight) and chat.metadata (the
 * models and commands the composer offers).
 */

import * as v from 'valibot';
import type { Assistant } from '../../../assistant/types.js';
import { MAX_SESSION_KEY_CHARS } from '../../../sessions/session-key.js';
import { buildHistoryPayload } from '../history-payload.js';
import type { SessionDefaults } from '../message-shape.js';
import type { MethodTable } from '../method-types.js';
import { chatViewFields } from '../session-info.js';
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT, MAX_HISTORY_OFFSET, MIN_PAGE_BYTES } from './chat.js';

/** A model the composer may offer, as clients see it. */
export interface ChatModel {
  provider: string;
  model: string;
  contextTokens: number;
  reasoning: boolean;
  available: boolean;
}

export interface ChatStartupDeps {
  assistant: Assistant;
  /** Raw client key → canonical key; throws GatewayError on an invalid key. */
  canonicalize: (raw: string) => string;
  defaults: SessionDefaults;
  /** policy.maxPayload: no res may exceed it, bytes. */
  maxPayloadBytes: number;
  /** The configured models, the primary first. */
  models: () => ChatModel[];
  now?: () => number;
}

const SessionKeyString = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_SESSION_KEY_CHARS));

const StartupParams = v.object({
  sessionKey: SessionKeyString,
  agentId: v.optional(v.string()),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_HISTORY_LIMIT))),
  maxChars: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  maxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(MIN_PAGE_BYTES))),
  offset: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_HISTORY_OFFSET))),
  // Pincer hands out no delta cursors; a client that sends one gets `{kind:"reset"}` and reads the tail.
  cursor: v.optional(v.string()),
});
const MetadataParams = v.object({ agentId: v.optional(v.string()), sessionKey: v.optional(SessionKeyString) });

/** Build chat.startup and chat.metadata. */
export function createChatStartupMethods(deps: ChatStartupDeps): MethodTable {
  const { assistant, canonicalize, defaults } = deps;
  const now = deps.now ?? Date.now;

  return {
    'chat.startup': {
      params: StartupParams,
      scope: 'operator.read',
      async handler(params, ctx) {
        const sessionKey = canonicalize(params.sessionKey);
        if (params.cursor !== undefined) return { kind: 'reset', sessionKey };
        ctx.watchSession(sessionKey);
        return buildHistoryPayload(assistant, sessionKey, {
          limit: params.limit ?? DEFAULT_HISTORY_LIMIT,
          offset: params.offset,
          maxChars: params.maxChars,
          maxBytes: params.maxBytes,
          maxPayloadBytes: deps.maxPayloadBytes,
          extra: chatViewFields(assistant, sessionKey, defaults, now()),
        });
      },
    },

    'chat.metadata': {
      params: MetadataParams,
      scope: 'operator.read',
      handler() {
        const models = deps.models().map((entry, index) => ({
          id: entry.model,
          name: entry.model,
          provider: entry.provider,
          contextWindow: entry.contextTokens,
          reasoning: entry.reasoning,
          tags: index === 0 ? ['default'] : [],
          available: entry.available,
        }));
        // Pincer runs no slash commands: the text goes to the model as typed.
        return {
          models,
          commands: [],
          swarmEnabled: false,
          accountSelection: { kind: 'automatic', label: 'Automatic account selection' },
          runtimeSelectionLocked: false,
        };
      },
    },
  };
}
