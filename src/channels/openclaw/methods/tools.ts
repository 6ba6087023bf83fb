/**
 * tools.catalog (OpenClaw's name, operator.read): every tool the model may be
 * offered, grouped by where it comes from (built-in, or one group per MCP
 * server with the server's state), so dashboards can show them.
 */

import * as v from 'valibot';
import type { McpServerView } from '../../../mcp/mcp-manager.js';
import type { ToolSpec } from '../../../providers/types.js';
import type { MethodTable } from '../method-types.js';

export interface ToolMethodDeps {
  /** The enabled built-in tools. */
  builtinTools(): readonly ToolSpec[];
  /** Every configured MCP server; empty when none is. */
  mcpServers(): readonly McpServerView[];
  agentId: string;
}

const CatalogParams = v.object({ agentId: v.optional(v.string()) });

/** Build the tools method entries. */
export function createToolMethods(deps: ToolMethodDeps): MethodTable {
  return {
    'tools.catalog': {
      params: CatalogParams,
      scope: 'operator.read',
      handler() {
        const servers = deps.mcpServers();
        const core = {
          id: 'core',
          label: 'Built-in tools',
          source: 'core',
          tools: deps.builtinTools().map((tool) => ({ id: tool.name, label: tool.name, description: tool.description, source: 'core', available: true })),
        };
        const mcp = servers.map((server) => ({
          id: `mcp:${server.name}`,
          label: `MCP: ${server.name}`,
          source: 'mcp',
          server: server.name,
          state: server.state,
          tools: server.tools.map((tool) => ({
            id: tool.name,
            label: tool.mcpName,
            description: tool.description,
            source: 'mcp',
            server: server.name,
            available: server.state === 'ready',
          })),
        }));
        return { agentId: deps.agentId, groups: [core, ...mcp], mcp: { servers } };
      },
    },
  };
}
