/**
 * agents.create/update/delete write through the gateway's one config writer
 * (config.set and the others use it too): read the file's hash, apply the
 * change to its current content, let the writer check the result with the
 * start-up rules and replace the file atomically. A write that raced another
 * one (stale hash) is retried on the new content.
 */

import type { AgentsConfig } from '../config/agents-config.js';
import { applyAgentListChange, type AgentListChange } from '../config/agent-list-change.js';
import { ConfigError } from '../config/config-error.js';
import { GatewayError } from '../protocol/errors.js';

/** Attempts of one change when other writers keep changing the file in between. */
const MAX_WRITE_ATTEMPTS = 3;

/** The part of the config writer (config/live-config.ts) an agent change needs. */
export interface AgentConfigFile {
  read(): Promise<{ hash: string }>;
  update(change: { baseHash?: string; apply(current: unknown): unknown }): Promise<{ next: { config: { agents: AgentsConfig } } }>;
}

/** Writes one change to the config file; answers the agents the new file resolves to. */
export type AgentConfigWriter = (change: AgentListChange) => Promise<AgentsConfig>;

/** An AgentConfigWriter over the config file; refusals become INVALID_REQUEST naming the field. */
export function createAgentConfigWriter(file: AgentConfigFile): AgentConfigWriter {
  return async (change) => {
    for (let attempt = 1; ; attempt++) {
      const { hash } = await file.read();
      try {
        const result = await file.update({ baseHash: hash, apply: (current) => applyAgentListChange(current ?? {}, change) });
        return result.next.config.agents;
      } catch (error) {
        if (isStaleHash(error) && attempt < MAX_WRITE_ATTEMPTS) continue;
        if (error instanceof ConfigError || isStaleHash(error)) {
          throw new GatewayError('INVALID_REQUEST', `the config file was not changed: ${(error as Error).message}`, {
            details: error instanceof ConfigError && error.field !== undefined ? { field: error.field } : undefined,
          });
        }
        throw error;
      }
    }
  };
}

function isStaleHash(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConfigConflictError';
}
