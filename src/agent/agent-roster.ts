/**
 * The configured agents at run time: for each one its model chain, its
 * workspace and its tools (file tools and exec confined to that workspace),
 * built on first use and rebuilt when agents are created, changed or
 * removed. A run finds its agent from the session key `agent:<id>:…`.
 */

import type { AgentConfigEntry, AgentsConfig } from '../config/agents-config.js';
import type { ModelCatalog } from '../providers/model-catalog.js';
import type { Provider, ToolSpec } from '../providers/types.js';
import { isCanonicalSessionKey, parseSessionKey } from '../sessions/session-key.js';
import type { AgentProfile } from './run.js';
import type { ToolExecutor } from './tool-types.js';
import type { ToolSet } from './tools/tool-set.js';

export interface AgentRosterDeps {
  /** The configured models; an agent's chain is built from them. */
  models: Pick<ModelCatalog, 'chainFor' | 'defaultProvider'>;
  /** The built-in tools working in one agent's workspace. */
  buildTools(agent: AgentConfigEntry): ToolSet;
  /** Tools every agent shares (MCP servers), offered after the built-in ones. */
  sharedTools?: { tools(): ToolSpec[]; owns(name: string): boolean; executeTool: ToolExecutor };
  /** agent.systemPrompt, for every agent. */
  systemPrompt?: string;
}

export class AgentRoster {
  readonly #deps: AgentRosterDeps;
  #config: AgentsConfig;
  #profiles = new Map<string, AgentProfile>();

  constructor(config: AgentsConfig, deps: AgentRosterDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  /** The default agent's id (`main`). */
  get defaultId(): string {
    return this.#config.defaultId;
  }

  /** Every agent id, the default first. */
  ids(): string[] {
    return this.#config.list.map((agent) => agent.id);
  }

  /** Every agent, the default first. */
  list(): readonly AgentConfigEntry[] {
    return this.#config.list;
  }

  /** One agent by id (lowercase), or undefined. */
  get(agentId: string): AgentConfigEntry | undefined {
    const wanted = agentId.trim().toLowerCase();
    return this.#config.list.find((agent) => agent.id === wanted);
  }

  /** Take a new agents config (after agents.create, update or delete); runs already going keep what they started with. */
  replace(config: AgentsConfig): void {
    this.#config = config;
    this.#profiles = new Map();
  }

  /** The model chain an agent answers with: its own, else the default chain. */
  providerOf(agent: AgentConfigEntry): Provider | undefined {
    if (agent.model === undefined) return this.#deps.models.defaultProvider();
    return this.#deps.models.chainFor(agent.model.primary, agent.model.fallbacks) ?? this.#deps.models.defaultProvider();
  }

  /** True when the session key belongs to a configured agent. */
  owns(sessionKey: string): boolean {
    return isCanonicalSessionKey(sessionKey) && this.get(parseSessionKey(sessionKey).agentId) !== undefined;
  }

  /** What a run of this session runs with; undefined for a key of no configured agent. */
  profileOf(sessionKey: string): AgentProfile | undefined {
    if (!isCanonicalSessionKey(sessionKey)) return undefined;
    const agent = this.get(parseSessionKey(sessionKey).agentId);
    if (agent === undefined) return undefined;
    let profile = this.#profiles.get(agent.id);
    if (profile === undefined) {
      profile = this.#build(agent);
      this.#profiles.set(agent.id, profile);
    }
    return profile;
  }

  #build(agent: AgentConfigEntry): AgentProfile {
    const builtin = this.#deps.buildTools(agent);
    const shared = this.#deps.sharedTools;
    return {
      provider: this.providerOf(agent),
      systemPrompt: this.#deps.systemPrompt,
      workspaceDir: agent.workspaceDir,
      tools: shared === undefined ? () => builtin.tools : () => [...builtin.tools, ...shared.tools()],
      executeTool:
        shared === undefined
          ? builtin.executeTool
          : (call, signal, context) => (shared.owns(call.name) ? shared.executeTool(call, signal, context) : builtin.executeTool(call, signal, context)),
    };
  }
}
