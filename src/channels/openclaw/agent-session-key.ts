/**
 * The session key of a request that may name an agent (`agent`,
 * `sessions.create`, … with `agentId`): a short key belongs to that agent,
 * a full key must be one of its own, and an unknown agent is refused naming it.
 */

import { GatewayError } from '../../protocol/errors.js';
import { MAIN_SESSION_NAME, parseSessionKey } from '../../sessions/session-key.js';

export interface AgentKeyDeps {
  canonicalize(raw: string): string;
  /** Throws UNKNOWN_AGENT naming the id; answers the agent's canonical id. */
  requireAgent(agentId: string): { id: string };
}

/**
 * `agentId` absent: the key as the client gave it (default `main`).
 * Present: `main` → `agent:<agentId>:main`, `x` → `agent:<agentId>:x`, and
 * `agent:<other>:…` is refused.
 */
export function sessionKeyForAgent(deps: AgentKeyDeps, rawKey: string | undefined, agentId: string | undefined): string {
  if (agentId === undefined) return deps.canonicalize(rawKey ?? MAIN_SESSION_NAME);
  const agent = deps.requireAgent(agentId);
  const raw = rawKey ?? MAIN_SESSION_NAME;
  const key = deps.canonicalize(raw.toLowerCase().startsWith('agent:') ? raw : `agent:${agent.id}:${raw}`);
  const owner = parseSessionKey(key).agentId;
  if (owner !== agent.id) throw new GatewayError('INVALID_REQUEST', `session ${key} belongs to agent ${owner}, not ${agent.id}`);
  return key;
}
