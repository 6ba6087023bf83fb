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
import { ConfigConflictError } from '../config/config-writer.js';
import { detailError } from '../protocol/errors.js';

/** Attempts of one change when other writers keep changing the file in between. */
const MAX_WRITE_ATTEMPTS = 3;

/** The part of the config writer (config/live-config.ts) an agent change needs. */
export interface AgentConfigFile {
  readonly path: string;
  read(): Promise<{ hash: string }>;
  update(change: { baseHash?: string; apply(current: unknown): unknown }): Promise<{ next: { config: { agents: AgentsConfig } } }>;
}

/** Writes one change to the config file; answers the agents the new file resolves to. */
export type AgentConfigWriter = (change: AgentListChange) => Promise<AgentsConfig>;

/** An AgentConfigWriter over the config file; refusals become INVALID_CONFIG naming the field, as config.set's. */
export function createAgentConfigWriter(file: AgentConfigFile): AgentConfigWriter {
  return async (change) => {
    for (let attempt = 1; ; attempt++) {
      const { hash } = await file.read();
      try {
        const result = await file.update({ baseHash: hash, apply: (current) => applyAgentListChange(current ?? {}, change) });
        return result.next.config.agents;
      } catch (error) {
        if (error instanceof ConfigConflictError) {
          if (attempt < MAX_WRITE_ATTEMPTS) continue;
          throw detailError('CONFIG_CHANGED', error.message, { extra: { reason: error.reason, currentHash: error.currentHash } });
        }
        if (error instanceof ConfigError) {
          // The file is named by its role, not its location.
          const message = error.message.split(file.path).join('the config file');
          throw detailError('INVALID_CONFIG', `invalid config: ${message}`, { extra: { field: error.field ?? '' } });
        }
        throw error;
      }
    }
  };
}
