/**
 * The agent picker: shown only when the gateway runs more than one agent
 * (agents.list). Picking an agent opens its main session; new chats are
 * created under the picked agent (`agent:<id>:<random>`).
 */

import { createEl } from './dom.js';

export interface AgentChoice {
  id: string;
  /** identity.name, else name, else the id. */
  label: string;
}

const AGENT_KEY = /^agent:([^:]+):/i;

/** The agent of a session key; short keys belong to the default agent. */
export function agentOfKey(key: string, defaultId: string): string {
  return AGENT_KEY.exec(key)?.[1]?.toLowerCase() ?? defaultId;
}

/** Read agents.list's payload; null when it is not the expected shape. */
export function parseAgentList(payload: unknown): { defaultId: string; agents: AgentChoice[] } | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { defaultId, agents } = payload as { defaultId?: unknown; agents?: unknown };
  if (typeof defaultId !== 'string' || !Array.isArray(agents)) return null;
  const choices: AgentChoice[] = [];
  for (const agent of agents) {
    if (typeof agent !== 'object' || agent === null || typeof agent.id !== 'string') continue;
    const identityName = typeof agent.identity?.name === 'string' ? agent.identity.name : undefined;
    const name = typeof agent.name === 'string' ? agent.name : undefined;
    choices.push({ id: agent.id, label: identityName ?? name ?? agent.id });
  }
  return { defaultId, agents: choices };
}

/** Fill the picker; hidden unless there are at least two agents. */
export function renderAgentPicker(select: HTMLSelectElement, agents: readonly AgentChoice[], currentId: string): void {
  select.hidden = agents.length < 2;
  select.replaceChildren(...agents.map((agent) => createEl('option', { text: agent.label, attrs: { value: agent.id } })));
  select.value = currentId;
}
