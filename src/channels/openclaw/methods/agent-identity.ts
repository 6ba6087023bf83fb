/**
 * agent.identity.get (docs/protocol.md §3.9): the name and avatar clients show
 * for the assistant, from `agent.identity` in the config or the workspace's
 * IDENTITY.md, else "Assistant".
 */

import * as v from 'valibot';
import type { Assistant } from '../../../assistant/types.js';
import { DEFAULT_AGENT_ID, MAX_SESSION_KEY_CHARS, MAIN_SESSION_NAME, parseSessionKey } from '../../../sessions/session-key.js';
import type { MethodTable } from '../method-types.js';

export interface AgentIdentityDeps {
  assistant: Assistant;
  /** Raw client key → canonical key; throws GatewayError on an invalid key or unknown agent. */
  canonicalize: (raw: string) => string;
}

const IdentityParams = v.object({
  agentId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
  sessionKey: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_SESSION_KEY_CHARS))),
});

/** Build agent.identity.get. */
export function createAgentIdentityMethods(deps: AgentIdentityDeps): MethodTable {
  return {
    'agent.identity.get': {
      params: IdentityParams,
      scope: 'operator.read',
      async handler(params) {
        // The agent named, else the session's agent; canonicalising refuses an agent that is not configured.
        const key = deps.canonicalize(params.agentId === undefined ? (params.sessionKey ?? MAIN_SESSION_NAME) : `agent:${params.agentId}:${MAIN_SESSION_NAME}`);
        const agentId = params.agentId === undefined && params.sessionKey === undefined ? DEFAULT_AGENT_ID : parseSessionKey(key).agentId;
        const identity = await deps.assistant.identity(agentId);
        return { agentId, ...identity };
      },
    },
  };
}
