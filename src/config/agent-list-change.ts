/**
 * One change of `agents.list` (agents.create, update, delete) applied to the
 * config file's content, a pure step the config writer runs before it checks
 * the result with the start-up rules. Everything else in the file is kept.
 */

import type { AgentIdentityConfig } from './agents-config.js';
import { ConfigError } from './config-error.js';

/** A change of `agents.list`, as the config writer applies it to the file. */
export type AgentListChange =
  | { type: 'create'; entry: { id: string; name: string; workspace?: string; model?: string; identity?: AgentIdentityConfig } }
  | { type: 'update'; agentId: string; set: { name?: string; workspace?: string; model?: string; identity?: AgentIdentityConfig } }
  | { type: 'delete'; agentId: string };

/** The file content with the change made; `content` is a private copy and may be changed in place. */
export function applyAgentListChange(content: unknown, change: AgentListChange): Record<string, unknown> {
  if (!isRecord(content)) throw new ConfigError('the config file does not hold a JSON object; fix it by hand first');
  const agents = content.agents === undefined ? {} : content.agents;
  if (!isRecord(agents)) throw new ConfigError('agents in the config file is not an object; fix it by hand first', { field: 'agents' });
  const list = agents.list === undefined ? [] : agents.list;
  if (!Array.isArray(list)) throw new ConfigError('agents.list in the config file is not an array; fix it by hand first', { field: 'agents.list' });
  const index = (id: string): number => list.findIndex((entry) => isRecord(entry) && entry.id === id);
  switch (change.type) {
    case 'create':
      list.push({ ...change.entry });
      break;
    case 'update': {
      const at = index(change.agentId);
      // main need not be listed: the first change of it adds its entry.
      const entry = at < 0 ? { id: change.agentId } : (list[at] as Record<string, unknown>);
      // `set.identity` is already merged over the current identity by the caller.
      Object.assign(entry, change.set);
      if (at < 0) list.push(entry);
      break;
    }
    case 'delete': {
      const at = index(change.agentId);
      if (at >= 0) list.splice(at, 1);
      break;
    }
  }
  return { ...content, agents: { ...agents, list } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
