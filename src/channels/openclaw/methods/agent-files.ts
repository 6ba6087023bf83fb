/**
 * agents.files.list, agents.files.get and agents.files.set (OpenClaw's names
 * and shapes, operator.admin): an agent's bootstrap files (AGENTS.md,
 * SOUL.md, …) by name only, confined to its workspace by the same rules as
 * the file tools; writes are atomic, with an optional `expectedHash`.
 */

import * as v from 'valibot';
import type { AgentDirectory } from '../../../assistant/agent-directory.js';
import type { MethodTable } from '../method-types.js';

export interface AgentFileMethodDeps {
  agents: AgentDirectory;
}

const AgentIdString = v.pipe(v.string('expected an agent id'), v.minLength(1, 'expected an agent id'));
const NameString = v.pipe(v.string('expected a file name'), v.minLength(1, 'expected a file name'));
const ListParams = v.object({ agentId: AgentIdString });
const GetParams = v.object({ agentId: AgentIdString, name: NameString });
const SetParams = v.object({
  agentId: AgentIdString,
  name: NameString,
  content: v.string('expected the file content as a string'),
  expectedHash: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 hex hash'))),
});

/** Build the agents.files.* entries. */
export function createAgentFileMethods({ agents }: AgentFileMethodDeps): MethodTable {
  return {
    'agents.files.list': {
      params: ListParams,
      scope: 'operator.admin',
      async handler(params) {
        const agent = agents.require(params.agentId);
        return { agentId: agent.id, workspace: agent.workspaceDir, files: await agents.listFiles(agent.id) };
      },
    },
    'agents.files.get': {
      params: GetParams,
      scope: 'operator.admin',
      async handler(params) {
        const agent = agents.require(params.agentId);
        return { agentId: agent.id, workspace: agent.workspaceDir, file: await agents.getFile(agent.id, params.name.trim()) };
      },
    },
    'agents.files.set': {
      params: SetParams,
      scope: 'operator.admin',
      async handler(params) {
        const agent = agents.require(params.agentId);
        const file = await agents.setFile(agent.id, params.name.trim(), params.content, params.expectedHash);
        return { ok: true, agentId: agent.id, workspace: agent.workspaceDir, file };
      },
    },
  };
}
