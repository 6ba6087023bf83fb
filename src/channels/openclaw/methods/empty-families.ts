/**
 * Method families OpenClaw has and Pincer does not (approvals, plugins, skills,
 * nodes, pairing, boards, tasks, themes, …; docs/protocol.md §3.8). Each one
 * answers what OpenClaw answers when the family holds nothing, in the shape
 * its Control UI reads, so a page shows an empty state instead of an error
 * and the UI does not retry. One table, one generic entry builder.
 */

import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { DEFAULT_AGENT_ID } from '../../../sessions/session-key.js';
import type { MethodTable, Scope } from '../method-types.js';

/**
 * What one empty method answers. `params` is the request's params; only a
 * few answers echo a field of it (board.get its sessionKey).
 */
interface EmptyAnswer {
  scope: Scope;
  answer(params: Record<string, unknown>, now: number): unknown;
}

/** Params are optional everywhere and extra keys ignored: these calls carry filters we have nothing to filter. */
const AnyParams = v.optional(v.record(v.string(), v.unknown()), {});

/** Pincer grants no operator.approvals / operator.pairing / operator.questions; admin stands in for them (OpenClaw's admin satisfies every scope). */
const APPROVALS: Scope = 'operator.admin';
const PAIRING: Scope = 'operator.admin';
const QUESTIONS: Scope = 'operator.admin';
const READ: Scope = 'operator.read';
const WRITE: Scope = 'operator.write';
const ADMIN: Scope = 'operator.admin';

/** Echoed when a request names no session. */
const NO_SESSION_KEY = null;

/**
 * The table: method name → scope (as OpenClaw assigns it, mapped onto Pincer's
 * three scopes) and the empty answer.
 */
const EMPTY_FAMILIES: Record<string, EmptyAnswer> = {
  // Approvals: Pincer's tools never wait for an operator's decision.
  'exec.approval.list': { scope: APPROVALS, answer: () => [] },
  'exec.approval.grants.list': { scope: APPROVALS, answer: () => ({ grants: [] }) },
  'exec.approvals.get': {
    scope: ADMIN,
    // No approvals file exists; the resolved policy says what Pincer does: enabled tools run without asking.
    answer: () => ({ exists: false, file: { version: 1, defaults: {}, agents: {} }, hash: null, resolvedDefaults: { security: 'full', ask: 'off', askFallback: 'deny', autoAllowSkills: false } }),
  },
  'plugin.approval.list': { scope: APPROVALS, answer: () => [] },
  'openclaw.approval.list': { scope: APPROVALS, answer: () => [] },
  'approval.history': { scope: APPROVALS, answer: () => ({ items: [] }) },
  'question.list': { scope: QUESTIONS, answer: () => ({ questions: [] }) },

  // Plugins and skills: none installed, none installable.
  'plugins.list': { scope: READ, answer: () => ({ plugins: [], diagnostics: [], mutationAllowed: false, generation: 0 }) },
  'plugins.catalog.browse': { scope: READ, answer: () => ({ items: [] }) },
  'plugins.controlUi.list': { scope: READ, answer: () => ({ revision: 'none', plugins: [], diagnostics: [] }) },
  'plugin.surface.refresh': {
    scope: READ,
    answer: (params) => ({ surface: typeof params.surface === 'string' ? params.surface : null, pluginSurfaceUrls: {}, expiresAtMs: null }),
  },
  'skills.status': { scope: READ, answer: (params) => ({ agentId: agentIdOf(params), skills: [] }) },
  'skills.search': { scope: READ, answer: () => ({ results: [] }) },
  'skills.library.list': {
    scope: READ,
    answer: () => ({ entries: [], multipleProfiles: false, defaultTarget: 'workspace', canManageWorkspace: false, defaultSelectionLimit: 0 }),
  },

  // Nodes and devices: Pincer pairs none.
  'node.list': { scope: READ, answer: (_params, now) => ({ ts: now, nodes: [] }) },
  'device.pair.list': { scope: PAIRING, answer: () => ({ pending: [], paired: [] }) },

  // Workspaces around sessions: environments, projects, boards, tasks, artifacts.
  'environments.list': { scope: READ, answer: () => ({ environments: [] }) },
  'projects.list': { scope: READ, answer: () => ({ projects: [], recents: [] }) },
  'board.get': {
    scope: READ,
    answer: (params) => ({ sessionKey: typeof params.sessionKey === 'string' ? params.sessionKey : NO_SESSION_KEY, revision: 0, tabs: [], widgets: [] }),
  },
  'tasks.list': { scope: READ, answer: () => ({ tasks: [] }) },
  'taskSuggestions.list': { scope: READ, answer: () => ({ suggestions: [] }) },
  'artifacts.list': { scope: READ, answer: () => ({ artifacts: [] }) },
  'progressCard.get': { scope: READ, answer: () => ({ card: null }) },
  'mentions.list': { scope: READ, answer: () => ({ gatewayInstanceId: GATEWAY_INSTANCE_ID, revision: 0, items: [] }) },

  // Session extras: branches, external catalogs, companions, groups, GitHub, sharing, observers.
  'sessions.branches.list': { scope: READ, answer: () => ({ branches: [] }) },
  'sessions.catalog.list': { scope: READ, answer: () => ({ catalogs: [] }) },
  'sessions.companion.state': { scope: READ, answer: () => ({ exchanges: [] }) },
  'sessions.groups.list': { scope: READ, answer: () => ({ groups: [], sectionOrder: [] }) },
  'sessions.groups.defaults': { scope: WRITE, answer: () => ({ defaults: [] }) },
  'sessions.github.options': {
    scope: READ,
    answer: () => ({
      personal: { state: 'disconnected', generation: null, account: null, accessExpiresAtMs: null, refreshState: 'not_applicable', pending: null },
      shared: null,
      pendingPersonal: null,
      latestShared: null,
    }),
  },
  'session.discussion.info': { scope: READ, answer: () => ({ state: 'none' }) },
  'session.members.listEvidence': {
    scope: READ,
    // One operator, no members: the caller owns everything it can reach.
    answer: (params) => ({
      sessionKey: typeof params.sessionKey === 'string' ? params.sessionKey : NO_SESSION_KEY,
      owner: THE_OPERATOR,
      members: [],
      identities: [],
      role: 'admin',
      allowedVisibilities: ['shared'],
    }),
  },
  'sessions.observer.visibility': { scope: READ, answer: () => ({ ok: true }) },
  'controlUi.sessionPullRequests.subscribe': { scope: READ, answer: () => ({ subscribed: false }) },

  // Voice, looks, updates and internals Pincer does not have.
  'talk.catalog': {
    scope: READ,
    answer: () => ({
      modes: [],
      transports: [],
      brains: [],
      speech: { providers: [] },
      transcription: { ready: false, providers: [] },
      realtime: { ready: false, providers: [] },
    }),
  },
  // No themes to offer: the current one is the UI's own built-in default, which it draws without a definition.
  'themes.list': {
    scope: READ,
    answer: () => ({ current: { id: DEFAULT_THEME.id, mode: 'system', scope: 'profile', overrides: {} }, theme: DEFAULT_THEME, themes: [] }),
  },
  'update.status': {
    scope: ADMIN,
    answer: () => ({ sentinel: null, updateAvailable: null, effectiveChannel: null, schedule: { channel: null, autoEnabled: false } }),
  },
  'diagnostics.lanes': { scope: READ, answer: (_params, now) => ({ ts: now, lanes: [], dynamic: null }) },
  'doctor.memory.status': {
    scope: READ,
    answer: (params) => ({
      agentId: agentIdOf(params),
      provider: null,
      embedding: { ok: false, checked: false, error: 'Pincer keeps no memory index' },
      dreaming: { enabled: false, shortTermEntries: [], signalEntries: [], promotedEntries: [], phases: {}, shortTermCount: 0, promotedTotal: 0, promotedToday: 0 },
    }),
  },
};

/** The Control UI's built-in default theme (OpenClaw's id for it). */
const DEFAULT_THEME = { id: 'claw', name: 'Claw', source: 'builtin', modes: ['light', 'dark'] } as const;

/** The one person Pincer serves, as OpenClaw names a session's owner. */
const THE_OPERATOR = { type: 'human', id: 'operator', identity: { type: 'profile', id: 'operator' } } as const;

/** mentions.list names the gateway instance its revision belongs to; one per process. */
const GATEWAY_INSTANCE_ID = randomUUID();

/** The method names this module answers, for tests and the docs check. */
export const EMPTY_FAMILY_METHODS: readonly string[] = Object.keys(EMPTY_FAMILIES);

/** Build one entry per empty family method. `now` is the clock for `ts` fields (epoch ms). */
export function createEmptyFamilyMethods(now: () => number = Date.now): MethodTable {
  const table: MethodTable = {};
  for (const [name, { scope, answer }] of Object.entries(EMPTY_FAMILIES)) {
    table[name] = { params: AnyParams, scope, handler: (params: Record<string, unknown>) => answer(params, now()) };
  }
  return table;
}

function agentIdOf(params: Record<string, unknown>): string {
  return typeof params.agentId === 'string' && params.agentId !== '' ? params.agentId : DEFAULT_AGENT_ID;
}
