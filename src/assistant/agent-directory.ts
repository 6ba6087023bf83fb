/**
 * The agents as channels see them (agents.*, agent.identity.get, the web
 * chat's picker, the OpenAI channel's `pincer:<agentId>`): the roster, each
 * agent's workspace files, and creating, changing and removing agents. A
 * change is written to the config file first (through the writer main.ts
 * hands in, which validates it with the start-up schema) and applied live
 * only once it is on disk.
 */

import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';

import type { AgentRoster } from '../agent/agent-roster.js';
import { listAgentFiles, readAgentFile, writeAgentFile, type AgentFileEntry } from '../agent/agent-files.js';
import { Workspace, type ProtectedArea } from '../agent/tools/workspace-path.js';
import type { AgentService } from '../agent/types.js';
import { AGENT_ID_PATTERN, MAIN_AGENT_ID, type AgentConfigEntry, type AgentIdentityConfig, type AgentsConfig } from '../config/agents-config.js';
import type { AgentListChange } from '../config/agent-list-change.js';
import { GatewayError, detailError } from '../protocol/errors.js';
import type { AgentConfigWriter } from './agent-config-writer.js';
import { isCanonicalSessionKey, parseSessionKey } from '../sessions/session-key.js';
import type { SessionStore } from '../sessions/types.js';

/** How long agents.delete waits for the agent's aborted runs to settle, ms. */
const DELETE_SETTLE_MS = 5_000;
/** Folder of the state directory that receives removed agents' workspaces. */
export const TRASH_DIR_NAME = 'trash';

/** An agent as clients see it. */
export interface AgentView {
  id: string;
  name?: string;
  identity?: AgentIdentityConfig;
  workspaceDir: string;
  /** Its chain by reference; absent when no model is configured at all. */
  model?: { primary: string; fallbacks: string[] };
  isDefault: boolean;
}

/** What agent.identity.get answers from: the config's identity, then the name. */
export interface AgentIdentity {
  agentId: string;
  /** identity.name, else name, else undefined (the caller picks its default or reads IDENTITY.md). */
  name?: string;
  avatar?: string;
  emoji?: string;
  theme?: string;
  /** Where IDENTITY.md would be read from. */
  workspaceDir: string;
}

/** agents.create input (OpenClaw's params). */
export interface CreateAgentInput {
  name: string;
  workspace?: string;
  model?: string;
  emoji?: string;
  avatar?: string;
}

export interface UpdateAgentInput {
  agentId: string;
  name?: string;
  workspace?: string;
  model?: string;
  emoji?: string;
  avatar?: string;
}

export interface AgentDeleteResult {
  agentId: string;
  /** Sessions of the agent left in the store: hidden while no agent has its id, back when one does again. */
  sessionsKept: number;
  /** Where its workspace went (`deleteFiles`), or undefined when it stayed in place. */
  workspaceMovedTo?: string;
  workspaceDir: string;
}

export interface AgentDirectoryDeps {
  roster: AgentRoster;
  store: Pick<SessionStore, 'list'>;
  agent: Pick<AgentService, 'abort' | 'wait' | 'activeRuns'>;
  stateDir: string;
  /** The gateway's own files, for one agent's workspace. */
  protectedAreas(workspaceDir: string): ProtectedArea[];
  /** The default chain by reference (provider.model, then provider.fallbacks); absent without a provider. */
  defaultModel?: { primary: string; fallbacks: readonly string[] };
  /** Absent: agents.create/update/delete answer that the config cannot be written. */
  writeConfig?: AgentConfigWriter;
  now?: () => number;
}

export class AgentDirectory {
  readonly #deps: AgentDirectoryDeps;
  /** One change at a time, so two writers never race on the file. */
  #writing: Promise<unknown> = Promise.resolve();
  #fileWrites: Promise<unknown> = Promise.resolve();

  constructor(deps: AgentDirectoryDeps) {
    this.#deps = deps;
  }

  get defaultId(): string {
    return this.#deps.roster.defaultId;
  }

  /** Every agent id, the default first. */
  ids(): string[] {
    return this.#deps.roster.ids();
  }

  list(): AgentView[] {
    return this.#deps.roster.list().map((agent) => this.#view(agent));
  }

  /** The agent, or a refusal naming the id (UNKNOWN_AGENT). */
  require(agentId: string): AgentView {
    const agent = this.#deps.roster.get(agentId);
    if (agent === undefined) throw unknownAgent(agentId, this.ids());
    return this.#view(agent);
  }

  /** True when the session key belongs to a configured agent. */
  ownsSession(sessionKey: string): boolean {
    return this.#deps.roster.owns(sessionKey);
  }

  identity(agentId: string): AgentIdentity {
    const agent = this.require(agentId);
    const name = agent.identity?.name ?? agent.name;
    return {
      agentId: agent.id,
      workspaceDir: agent.workspaceDir,
      ...(name === undefined ? {} : { name }),
      ...(agent.identity?.avatar === undefined ? {} : { avatar: agent.identity.avatar }),
      ...(agent.identity?.emoji === undefined ? {} : { emoji: agent.identity.emoji }),
      ...(agent.identity?.theme === undefined ? {} : { theme: agent.identity.theme }),
    };
  }

  listFiles(agentId: string): Promise<AgentFileEntry[]> {
    return listAgentFiles(this.#workspace(agentId));
  }

  getFile(agentId: string, name: string): Promise<AgentFileEntry> {
    return readAgentFile(this.#workspace(agentId), name);
  }

  setFile(agentId: string, name: string, content: string, expectedHash?: string): Promise<AgentFileEntry> {
    // One file write at a time, so an expectedHash check and its write are never interleaved with another write.
    const next = this.#fileWrites.then(() => writeAgentFile(this.#workspace(agentId), name, content, expectedHash));
    this.#fileWrites = next.catch(() => undefined);
    return next;
  }

  /** Add an agent (id from its name), write the config, create its workspace. */
  create(input: CreateAgentInput): Promise<AgentView> {
    return this.#serial(async () => {
      const id = agentIdFromName(input.name);
      if (id === MAIN_AGENT_ID) throw new GatewayError('INVALID_REQUEST', `"${MAIN_AGENT_ID}" is reserved`);
      if (this.#deps.roster.get(id) !== undefined) throw new GatewayError('INVALID_REQUEST', `agent "${id}" already exists`);
      const identity = identityOf(input);
      const entry = {
        id,
        name: input.name.trim(),
        ...(input.workspace === undefined ? {} : { workspace: input.workspace.trim() }),
        ...(input.model === undefined ? {} : { model: input.model.trim() }),
        ...(identity === undefined ? {} : { identity }),
      };
      const agents = await this.#write({ type: 'create', entry });
      this.#deps.roster.replace(agents);
      const created = this.require(id);
      await mkdir(created.workspaceDir, { recursive: true, mode: 0o700 });
      return created;
    });
  }

  update(input: UpdateAgentInput): Promise<AgentView> {
    return this.#serial(async () => {
      const current = this.require(input.agentId);
      const identity = identityOf(input, current.identity);
      const set = {
        ...(input.name === undefined ? {} : { name: input.name.trim() }),
        ...(input.workspace === undefined ? {} : { workspace: input.workspace.trim() }),
        ...(input.model === undefined ? {} : { model: input.model.trim() }),
        ...(identity === undefined ? {} : { identity }),
      };
      const agents = await this.#write({ type: 'update', agentId: current.id, set });
      this.#deps.roster.replace(agents);
      const updated = this.require(current.id);
      await mkdir(updated.workspaceDir, { recursive: true, mode: 0o700 });
      return updated;
    });
  }

  /**
   * Remove an agent from the config. Its runs are stopped first. Its sessions
   * stay in the store, and with `deleteFiles` (the default, as in OpenClaw)
   * its workspace moves to `<stateDir>/trash/` instead of being deleted.
   */
  delete(agentId: string, deleteFiles = true): Promise<AgentDeleteResult> {
    return this.#serial(async () => {
      const agent = this.require(agentId);
      if (agent.id === MAIN_AGENT_ID) throw new GatewayError('INVALID_REQUEST', `"${MAIN_AGENT_ID}" cannot be deleted`);
      const agents = await this.#write({ type: 'delete', agentId: agent.id });
      this.#deps.roster.replace(agents);
      await this.#stopRuns(agent.id);
      const sessionsKept = this.#deps.store.list().filter((session) => agentOf(session.key) === agent.id).length;
      const result: AgentDeleteResult = { agentId: agent.id, sessionsKept, workspaceDir: agent.workspaceDir };
      if (deleteFiles) {
        const movedTo = await this.#trash(agent);
        if (movedTo !== undefined) result.workspaceMovedTo = movedTo;
      }
      return result;
    });
  }

  #view(agent: AgentConfigEntry): AgentView {
    const chain = agent.model ?? this.#deps.defaultModel;
    const model = chain === undefined ? undefined : { primary: chain.primary, fallbacks: [...chain.fallbacks] };
    return {
      id: agent.id,
      workspaceDir: agent.workspaceDir,
      isDefault: agent.id === this.#deps.roster.defaultId,
      ...(agent.name === undefined ? {} : { name: agent.name }),
      ...(agent.identity === undefined ? {} : { identity: { ...agent.identity } }),
      ...(model === undefined ? {} : { model }),
    };
  }

  #workspace(agentId: string): Workspace {
    const agent = this.require(agentId);
    return new Workspace(agent.workspaceDir, this.#deps.protectedAreas(agent.workspaceDir));
  }

  #write(change: AgentListChange): Promise<AgentsConfig> {
    const writer = this.#deps.writeConfig;
    if (writer === undefined) throw new GatewayError('UNAVAILABLE', 'this gateway cannot write its config file; edit agents.list there and restart');
    return writer(change);
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#writing.then(work, work);
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async #stopRuns(agentId: string): Promise<void> {
    const runs = this.#deps.agent.activeRuns().filter((run) => agentOf(run.sessionKey) === agentId);
    for (const sessionKey of new Set(runs.map((run) => run.sessionKey))) this.#deps.agent.abort(sessionKey);
    await Promise.all(runs.map((run) => this.#deps.agent.wait(run.runId, DELETE_SETTLE_MS)));
  }

  /** Move the workspace into the trash folder; undefined when it does not exist or cannot be moved (another file system). */
  async #trash(agent: AgentView): Promise<string | undefined> {
    const stamp = new Date((this.#deps.now ?? Date.now)()).toISOString().replace(/[:.]/g, '-');
    const dir = join(this.#deps.stateDir, TRASH_DIR_NAME, `${agent.id}-${stamp}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const target = join(dir, 'workspace');
    try {
      await rename(agent.workspaceDir, target);
      return target;
    } catch {
      return undefined;
    }
  }
}

/** OpenClaw's rule: lowercase, runs of other characters become "-", at most 64 characters. */
export function agentIdFromName(name: string): string {
  const id = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '')
    .slice(0, 64);
  if (!AGENT_ID_PATTERN.test(id)) throw new GatewayError('INVALID_REQUEST', `name "${name}" gives no usable agent id: use letters or digits`);
  return id;
}

/** `unknown agent: <id>`, the wording every way in uses. */
export function unknownAgent(agentId: string, known: readonly string[]): GatewayError {
  return detailError('UNKNOWN_AGENT', `unknown agent: ${agentId}`);
}

function agentOf(sessionKey: string): string | undefined {
  return isCanonicalSessionKey(sessionKey) ? parseSessionKey(sessionKey).agentId : undefined;
}

function identityOf(input: { emoji?: string; avatar?: string }, current?: AgentIdentityConfig): AgentIdentityConfig | undefined {
  const emoji = input.emoji?.trim();
  const avatar = input.avatar?.trim();
  if (!emoji && !avatar) return undefined;
  return { ...current, ...(emoji ? { emoji } : {}), ...(avatar ? { avatar } : {}) };
}
