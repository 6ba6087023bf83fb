/**
 * The `agents` section, in OpenClaw's names: `agents.list` holds one entry
 * per agent (`id`, `name`, `workspace`, `model`, `identity`) and
 * `agents.defaults` what entries leave out (`workspace`, `model`). Each agent
 * has its own workspace (its AGENTS.md and the directory its file tools are
 * confined to), its own model chain and its own identity. `main` always
 * exists and is the default agent: the gateway's main session is
 * `agent:main:main`.
 */

import { join } from 'node:path';
import * as v from 'valibot';
import { ConfigError, describeSource } from './config-error.js';
import type { ConfigSource } from './config-error.js';
import { describeOverlap, describeUnsafeWorkspace } from './workspace-placement.js';

/** The agent every gateway has, and the one short session keys belong to. */
export const MAIN_AGENT_ID = 'main';
/** Most agents in agents.list. */
export const MAX_AGENTS = 64;
/** An agent id: a session key segment OpenClaw would also accept (lowercase, digits, `_`, `-`). */
export const AGENT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_FALLBACKS = 10;

const nonBlank = (what: string) =>
  v.pipe(
    v.string(`expected ${what}`),
    v.check((value) => value.trim().length > 0, `must not be empty (expected ${what})`),
  );

function section<const E extends v.ObjectEntries>(entries: E) {
  return v.pipe(
    v.custom<unknown>((value) => !Array.isArray(value), 'expected an object, not an array'),
    v.strictObject(entries, 'expected an object'),
  );
}

const agentIdSchema = v.pipe(
  v.string('expected an agent id'),
  v.regex(AGENT_ID_PATTERN, 'expected an agent id: 1 to 64 lowercase letters, digits, "_" or "-", starting with a letter or digit'),
);

const modelRefSchema = nonBlank('a model reference such as openai/gpt-4o');

/** `"kind/model"`, or `{ primary, fallbacks }` as OpenClaw writes it. */
const agentModelSchema = v.union(
  [
    modelRefSchema,
    section({
      primary: modelRefSchema,
      fallbacks: v.optional(v.pipe(v.array(modelRefSchema, 'expected an array of model references'), v.maxLength(MAX_FALLBACKS, `expected at most ${MAX_FALLBACKS} fallbacks`))),
    }),
  ],
  'expected a model reference such as openai/gpt-4o, or { "primary": …, "fallbacks": […] }',
);

const identitySchema = section({
  name: v.optional(nonBlank('a name')),
  emoji: v.optional(nonBlank('an emoji')),
  avatar: v.optional(nonBlank('an avatar (an emoji, a letter, a URL or a workspace-relative image path)')),
  theme: v.optional(nonBlank('a theme')),
});

const agentEntrySchema = section({
  id: agentIdSchema,
  /** OpenClaw's marker of the default agent; in Pincer only `main` may carry it. */
  default: v.optional(v.boolean('expected true or false')),
  name: v.optional(nonBlank('a display name')),
  workspace: v.optional(nonBlank('a directory path')),
  model: v.optional(agentModelSchema),
  identity: v.optional(identitySchema),
});

/** The `agents` section of the config file. */
export const agentsFileSchema = section({
  defaults: v.optional(
    section({
      workspace: v.optional(nonBlank('a directory path')),
      model: v.optional(agentModelSchema),
    }),
  ),
  list: v.optional(v.pipe(v.array(agentEntrySchema, 'expected an array of agents'), v.maxLength(MAX_AGENTS, `expected at most ${MAX_AGENTS} agents`))),
});

export type AgentsFileConfig = v.InferOutput<typeof agentsFileSchema>;
export type AgentEntryFileConfig = v.InferOutput<typeof agentEntrySchema>;
export type AgentModelFileConfig = v.InferOutput<typeof agentModelSchema>;

/** A model chain by reference: the primary, then the fallbacks tried in order. */
export interface AgentModelConfig {
  readonly primary: string;
  readonly fallbacks: readonly string[];
}

export interface AgentIdentityConfig {
  readonly name?: string;
  readonly emoji?: string;
  readonly avatar?: string;
  readonly theme?: string;
}

/** One agent, resolved. */
export interface AgentConfigEntry {
  readonly id: string;
  readonly name?: string;
  /** Absolute path of its workspace. */
  readonly workspaceDir: string;
  /** Its chain; absent when it uses the default chain (provider.model and provider.fallbacks). */
  readonly model?: AgentModelConfig;
  readonly identity?: AgentIdentityConfig;
}

/** The resolved `agents` section: `main` first, then the others in config order. */
export interface AgentsConfig {
  readonly defaultId: string;
  readonly list: readonly AgentConfigEntry[];
}

export interface ResolveAgentsContext {
  stateDir: string;
  /** agent.workspaceDir, resolved: main's workspace unless its entry names one. */
  mainWorkspaceDir: string;
  /** References of the configured models (`kind/model`), for checking agents' model references. */
  modelRefs: readonly string[];
  /** Where agents.* came from, for messages. */
  source: ConfigSource;
  /** Relative paths → absolute (relative to the config file, `~` to the home directory). */
  resolvePath(path: string): string;
  /** Skip the placement checks (`pincer doctor` reports them instead). */
  allowUnsafeWorkspace?: boolean;
}

/**
 * Resolve the `agents` section. Throws ConfigError naming the field for a
 * repeated id, a `default` marker on an agent other than main, a model that
 * is not configured, and a workspace that is unsafe or shared with (or nested
 * in) another agent's.
 */
export function resolveAgents(file: AgentsFileConfig | undefined, context: ResolveAgentsContext): AgentsConfig {
  const entries = file?.list ?? [];
  const defaultsWorkspace = file?.defaults?.workspace === undefined ? undefined : context.resolvePath(file.defaults.workspace);
  const defaultsModel = file?.defaults?.model === undefined ? undefined : normaliseModel(file.defaults.model, undefined);
  const fail = (field: string, message: string): never => {
    throw new ConfigError(`invalid ${field} ${describeSource(context.source)}: ${message}`, { field, source: context.source });
  };
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.id)) fail(`agents.list[${index}].id`, `agent "${entry.id}" is listed twice`);
    seen.add(entry.id);
    if (entry.default === true && entry.id !== MAIN_AGENT_ID) {
      fail(`agents.list[${index}].default`, `only "${MAIN_AGENT_ID}" can be the default agent (its session agent:main:main is the gateway's main session)`);
    }
  });
  const listed = entries.map((entry, index) => ({ entry, field: `agents.list[${index}]` }));
  if (!seen.has(MAIN_AGENT_ID)) listed.unshift({ entry: { id: MAIN_AGENT_ID }, field: 'agent' });
  else listed.sort((a, b) => Number(b.entry.id === MAIN_AGENT_ID) - Number(a.entry.id === MAIN_AGENT_ID));

  const resolved = listed.map(({ entry, field }) => {
    const workspaceDir =
      entry.workspace !== undefined
        ? context.resolvePath(entry.workspace)
        : entry.id === MAIN_AGENT_ID
          ? context.mainWorkspaceDir
          : defaultsWorkspace !== undefined
            ? join(defaultsWorkspace, entry.id)
            : join(context.stateDir, `workspace-${entry.id}`);
    const workspaceField = entry.workspace !== undefined ? `${field}.workspace` : entry.id === MAIN_AGENT_ID ? 'agent.workspaceDir' : 'agents.defaults.workspace';
    const model = normaliseModel(entry.model, defaultsModel) ?? defaultsModel;
    const agent: AgentConfigEntry = {
      id: entry.id,
      workspaceDir,
      ...(entry.name === undefined ? {} : { name: entry.name }),
      ...(model === undefined ? {} : { model }),
      ...(entry.identity === undefined ? {} : { identity: { ...entry.identity } }),
    };
    return { agent, field, workspaceField };
  });

  for (const { agent, field } of resolved) {
    for (const ref of agent.model === undefined ? [] : [agent.model.primary, ...agent.model.fallbacks]) {
      if (findModelRef(ref, context.modelRefs) === undefined) {
        const known = context.modelRefs.length === 0 ? 'no provider is configured' : `configured: ${context.modelRefs.join(', ')}`;
        fail(`${field}.model`, `"${ref}" is not a configured model (${known}); add it to provider.models`);
      }
    }
  }
  if (context.allowUnsafeWorkspace !== true) checkWorkspaces(resolved, context, fail);
  return { defaultId: MAIN_AGENT_ID, list: resolved.map(({ agent }) => agent) };
}

/** The configured reference `ref` names: exact `kind/model`, or a bare model id only one kind serves. */
export function findModelRef(ref: string, modelRefs: readonly string[]): string | undefined {
  const wanted = ref.trim();
  if (modelRefs.includes(wanted)) return wanted;
  const byId = modelRefs.filter((known) => known.slice(known.indexOf('/') + 1) === wanted);
  return byId.length === 1 ? byId[0] : undefined;
}

/**
 * OpenClaw's rule: a string names the primary only and keeps the defaults'
 * fallbacks; an object's `fallbacks` replace them (`[]` turns them off).
 */
function normaliseModel(model: AgentModelFileConfig | undefined, defaults: AgentModelConfig | undefined): AgentModelConfig | undefined {
  if (model === undefined) return undefined;
  if (typeof model === 'string') return { primary: model.trim(), fallbacks: defaults?.fallbacks ?? [] };
  return { primary: model.primary.trim(), fallbacks: (model.fallbacks ?? defaults?.fallbacks ?? []).map((ref) => ref.trim()) };
}

/** Each workspace is safe on its own, and no two agents share one or nest one in the other. */
function checkWorkspaces(
  resolved: readonly { agent: AgentConfigEntry; workspaceField: string }[],
  context: ResolveAgentsContext,
  fail: (field: string, message: string) => never,
): void {
  for (const { agent, workspaceField } of resolved) {
    const unsafe = describeUnsafeWorkspace(agent.workspaceDir, context.stateDir, agent.id === MAIN_AGENT_ID ? undefined : agent.id);
    if (unsafe !== undefined) {
      fail(workspaceField, `${agent.workspaceDir} cannot be agent "${agent.id}"'s workspace because ${unsafe}; choose a directory outside it`);
    }
  }
  for (let i = 0; i < resolved.length; i++) {
    for (let j = i + 1; j < resolved.length; j++) {
      const a = resolved[i].agent;
      const b = resolved[j].agent;
      const overlap = describeOverlap(b.workspaceDir, a.workspaceDir);
      if (overlap !== undefined) {
        fail(resolved[j].workspaceField, `agent "${b.id}"'s workspace ${b.workspaceDir} ${overlap} agent "${a.id}"'s ${a.workspaceDir}; each agent needs its own directory`);
      }
    }
  }
}
