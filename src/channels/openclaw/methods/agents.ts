/**
 * agents.list, agents.create, agents.update and agents.delete (OpenClaw's
 * names and shapes): the configured agents, and changing them. Changes are
 * written to the config file, validated by the start-up schema, and applied
 * live. Workspace paths are shown to operator.admin only.
 */

import * as v from 'valibot';
import type { AgentDirectory, AgentView } from '../../../assistant/agent-directory.js';
import { MAIN_SESSION_NAME } from '../../../sessions/session-key.js';
import type { MethodTable } from '../method-types.js';

export interface AgentMethodDeps {
  agents: AgentDirectory;
}

const NonEmpty = (what: string) => v.pipe(v.string(`expected ${what}`), v.check((value) => value.trim() !== '', `expected ${what}`));
const NoParams = v.object({});
const CreateParams = v.object({
  name: NonEmpty('a name'),
  workspace: v.optional(NonEmpty('a directory path')),
  model: v.optional(NonEmpty('a model reference such as openai/gpt-4o')),
  emoji: v.optional(v.string()),
  avatar: v.optional(v.string()),
});
const UpdateParams = v.object({
  agentId: NonEmpty('an agent id'),
  name: v.optional(NonEmpty('a name')),
  workspace: v.optional(NonEmpty('a directory path')),
  model: v.optional(NonEmpty('a model reference such as openai/gpt-4o')),
  emoji: v.optional(v.string()),
  avatar: v.optional(v.string()),
});
const DeleteParams = v.object({ agentId: NonEmpty('an agent id'), deleteFiles: v.optional(v.boolean()) });

/** Build the agents.* entries. */
export function createAgentsMethods({ agents }: AgentMethodDeps): MethodTable {
  return {
    'agents.list': {
      params: NoParams,
      scope: 'operator.read',
      handler(_params, ctx) {
        const admin = ctx.scopes.has('operator.admin');
        return {
          defaultId: agents.defaultId,
          mainKey: MAIN_SESSION_NAME,
          scope: 'per-sender',
          selectionRequired: false,
          agents: agents.list().map((agent) => agentSummary(agent, admin)),
        };
      },
    },
    'agents.create': {
      params: CreateParams,
      scope: 'operator.admin',
      async handler(params) {
        const created = await agents.create(params);
        return { ok: true, agentId: created.id, name: created.name ?? created.id, workspace: created.workspaceDir, ...(params.model === undefined ? {} : { model: params.model.trim() }) };
      },
    },
    'agents.update': {
      params: UpdateParams,
      scope: 'operator.admin',
      async handler(params) {
        const updated = await agents.update(params);
        return { ok: true, agentId: updated.id };
      },
    },
    'agents.delete': {
      params: DeleteParams,
      scope: 'operator.admin',
      async handler(params) {
        const result = await agents.delete(params.agentId, params.deleteFiles ?? true);
        return {
          ok: true,
          agentId: result.agentId,
          removedBindings: 0,
          sessionsKept: result.sessionsKept,
          ...(result.workspaceMovedTo === undefined ? { workspaceKept: result.workspaceDir } : { workspaceMovedTo: result.workspaceMovedTo }),
        };
      },
    },
  };
}

/** One agents.list row (OpenClaw's AgentSummary). */
function agentSummary(agent: AgentView, showPaths: boolean): Record<string, unknown> {
  const row: Record<string, unknown> = { id: agent.id, kind: 'agent' };
  if (agent.name !== undefined) row.name = agent.name;
  if (agent.identity !== undefined) row.identity = { ...agent.identity };
  if (showPaths) row.workspace = agent.workspaceDir;
  if (agent.model !== undefined) row.model = agent.model.fallbacks.length === 0 ? { primary: agent.model.primary } : { ...agent.model };
  return row;
}

