/**
 * Model names of the OpenAI-compatible API. Each "model" is an agent:
 * `openclaw`, `openclaw/default` and `openclaw/<agentId>` as OpenClaw lists
 * them (docs/protocol.md §7.1), plus the same names under `pincer`.
 */

const MODEL_PREFIXES = ['openclaw', 'pincer'] as const;

export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  permission: [];
}

/** The `/v1/models` list: OpenClaw's observed entries first, then Pincer's. */
export function listModels(agentIds: readonly string[]): ModelEntry[] {
  const entries: ModelEntry[] = [];
  for (const prefix of MODEL_PREFIXES) {
    const ids = [prefix, `${prefix}/default`, ...agentIds.map((agentId) => `${prefix}/${agentId}`)];
    for (const id of new Set(ids)) entries.push({ id, object: 'model', created: 0, owned_by: prefix, permission: [] });
  }
  return entries;
}

/**
 * The agent a model name selects, or undefined for an unknown name. Also
 * accepts OpenClaw's documented aliases `openclaw:<agentId>` and
 * `agent:<agentId>`. Matching ignores case.
 */
export function resolveModelAgent(model: string, agentIds: readonly string[]): string | undefined {
  const defaultAgent = agentIds[0];
  if (defaultAgent === undefined) return undefined;
  const name = model.trim().toLowerCase();
  for (const prefix of MODEL_PREFIXES) {
    if (name === prefix || name === `${prefix}/default` || name === `${prefix}:default`) return defaultAgent;
    for (const sep of ['/', ':']) {
      if (name.startsWith(`${prefix}${sep}`)) return findAgent(name.slice(prefix.length + 1), agentIds);
    }
  }
  if (name.startsWith('agent:')) return findAgent(name.slice('agent:'.length), agentIds);
  return undefined;
}

/** The agent id a model name asks for (`pincer:<id>`, `openclaw/<id>`, `agent:<id>`), configured or not. */
export function namedAgent(model: string): string | undefined {
  const match = /^(?:pincer|openclaw)[:/](.+)$|^agent:(.+)$/.exec(model.trim().toLowerCase());
  return match === null ? undefined : (match[1] ?? match[2]);
}

/** `pincer, pincer:<agentId>, openclaw or openclaw:<agentId> (agents: main)`, for the unknown-model 404. */
export function describeAcceptedModels(agentIds: readonly string[]): string {
  return `pincer, pincer:<agentId>, openclaw or openclaw:<agentId> (agents: ${agentIds.join(', ')})`;
}

function findAgent(candidate: string, agentIds: readonly string[]): string | undefined {
  return agentIds.find((agentId) => agentId.toLowerCase() === candidate);
}
