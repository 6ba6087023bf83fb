/**
 * A set of AgentTools as the agent service takes them: the specs offered to
 * the model and one executor that dispatches a call by name.
 */

import type { AgentTool } from './agent-tool.js';
import type { ToolExecutor } from '../tool-types.js';
import type { ToolSpec } from '../../providers/types.js';

export interface ToolSet {
  /** Offered to the model, in this order. */
  readonly tools: ToolSpec[];
  /** Runs a call of one of `tools`; an unknown name throws (the loop never passes one). */
  readonly executeTool: ToolExecutor;
}

/** Index tools by name. Throws on a repeated name. */
export function createToolSet(tools: readonly AgentTool[]): ToolSet {
  const byName = new Map<string, AgentTool>();
  for (const tool of tools) {
    if (byName.has(tool.spec.name)) throw new RangeError(`tool ${tool.spec.name} is defined twice`);
    byName.set(tool.spec.name, tool);
  }
  return {
    tools: tools.map((tool) => tool.spec),
    executeTool: (call, signal, context) => {
      const tool = byName.get(call.name);
      if (tool === undefined) return Promise.reject(new Error(`unknown tool: ${call.name}`));
      return tool.execute(call.arguments, signal, context);
    },
  };
}
