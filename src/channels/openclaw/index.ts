/**
 * The OpenClaw WebSocket channel's face: builds the method table over the
 * assistant, the event mapper and the channel, and hooks them into the host
 * (upgrades, drain, close). Off when `gateway.websocket` is false.
 */

import { join } from 'node:path';
import type { PincerConfig } from '../../config/schema.js';
import type { ChannelHost, ChannelStarter } from '../channel-host.js';
import { createOpenClawChannel } from './channel.js';
import { createEventMapper } from './event-mapper.js';
import type { SessionDefaults } from './message-shape.js';
import type { MethodTable } from './method-types.js';
import { createAgentMethods } from './methods/agent.js';
import { createAgentsMethods } from './methods/agents.js';
import { createAgentFileMethods } from './methods/agent-files.js';
import { createChatMethods } from './methods/chat.js';
import { createSessionMethods } from './methods/sessions.js';
import { createCronMethods } from './methods/cron.js';
import { createConfigMethods } from './methods/config.js';
import { createConfigSchemaMethods } from './methods/config-schema.js';
import { createEmptyFamilyMethods } from './methods/empty-families.js';
import { createAgentIdentityMethods } from './methods/agent-identity.js';
import { createChatStartupMethods } from './methods/chat-startup.js';
import { createSessionPageMethods } from './methods/session-page.js';
import { createUserPrefsMethods } from './methods/user-prefs.js';
import { UserPrefs } from './user-prefs.js';
import { createSystemMethods, DEFAULT_CONTEXT_TOKENS, type ModelInfo } from './methods/system.js';
import { createToolMethods } from './methods/tools.js';
import { createPairingMethods } from './methods/channel-pairing.js';
import { createUsageMethods, type StatusModel } from './methods/usage.js';
import { buildManagementMethods, type ManagementMethods } from './management-methods.js';
import type { PresenceClient } from './methods/system-info.js';
import { modelKey } from '../../providers/create-provider.js';
import { DEFAULT_AGENT_ID } from '../../sessions/session-key.js';

export type { ChannelStats } from './channel.js';

/** File in the state dir holding the Control UI's preferences (users.prefs.*). */
export const CONTROL_UI_PREFS_FILE = 'control-ui-prefs.json';

/** Part of the drain budget kept for telling sockets `shutdown` and closing them, ms. */
export const SOCKET_CLOSE_RESERVE_MS = 1_000;

/** Start the OpenClaw channel on the host. */
export const startOpenClawChannel: ChannelStarter = (host) => {
  const { config } = host;
  if (!config.gateway.websocket) return undefined;
  // The management methods list this channel's clients, so they read it once it exists.
  let readPresence: () => PresenceClient[] = () => [];
  const management = buildManagementMethods(host, () => readPresence());
  const channel = createOpenClawChannel({
    getAuthSecret: host.getAuthSecret,
    methods: buildMethods(host, management),
    bus: host.events,
    mapEvent: createEventMapper({ defaults: sessionDefaults(config) }),
    isDraining: host.isDraining,
    logger: host.logger.child({ component: 'openclaw' }),
    authLimiter: host.authLimiter,
    gate: host.gate,
    deviceTokens: host.deviceTokens,
    options: {
      ...config.gateway,
      port: host.port,
      version: host.version,
      budget: { maxRequestsPerSecond: config.gateway.maxRequestsPerSecond },
    },
  });
  host.setUpgradeHandler((req, socket, head) => channel.handleUpgrade(req, socket, head));
  host.onDrain('openclaw', async (deadlineMs) => {
    // Let runs finish (or persist as aborted) first, so watchers see their last events before `shutdown`.
    await host.drainRuns(Math.max(0, deadlineMs - Date.now() - SOCKET_CLOSE_RESERVE_MS));
    await channel.shutdown('shutdown');
  });
  readPresence = () => channel.presence();
  host.onClose(() => {
    management.close();
    return channel.close();
  });
  return {
    name: 'openclaw',
    drainsRuns: true,
    stats: () => channel.stats(),
    status: () => {
      const stats = channel.stats();
      return { configured: true, running: !host.isDraining(), lastError: null, port: host.port, connections: stats.connections, authenticated: stats.authenticated };
    },
  };
};

/** Every OpenClaw method, from the groups in methods/. */
function buildMethods(host: ChannelHost, management: ManagementMethods): MethodTable {
  const { config, assistant, canonicalize } = host;
  const defaults = sessionDefaults(config);
  return {
    ...createSystemMethods({
      version: host.version,
      startedAt: Date.now(),
      listSessions: () => assistant.list(),
      model: () => modelInfos(host)[0],
      fallbacks: () => modelInfos(host).slice(1),
      extras: management.systemExtras,
    }),
    ...management.methods,
    ...createConfigMethods({ config: host.configFile, logger: host.logger.child({ component: 'config' }) }),
    ...createConfigSchemaMethods({ version: host.version }),
    ...createSessionMethods({ assistant, canonicalize, defaults, models: host.models.catalog }),
    ...createChatMethods({ assistant, canonicalize, maxPayloadBytes: config.gateway.maxPayloadBytes }),
    ...createAgentMethods({ assistant, canonicalize, requireAgent: (agentId) => host.agents.require(agentId) }),
    ...createUsageMethods({
      store: assistant,
      canonicalize,
      price: (model, usage) => (model === undefined ? undefined : host.models.prices.costOf(model, usage)),
      models: () => statusModels(host),
      requireAgent: (agentId) => void host.agents.require(agentId),
    }),
    ...createCronMethods({ cron: host.scheduler.cron, lastHeartbeat: () => host.scheduler.lastHeartbeat() }),
    ...createAgentsMethods({ agents: host.agents }),
    ...createAgentFileMethods({ agents: host.agents }),
    ...createToolMethods({ builtinTools: host.tools.builtinTools, mcpServers: host.tools.mcpServers, agentId: DEFAULT_AGENT_ID }),
    ...createChatStartupMethods({
      assistant,
      canonicalize,
      defaults,
      maxPayloadBytes: config.gateway.maxPayloadBytes,
      models: () => modelInfos(host).map((entry) => ({ ...entry, contextTokens: entry.contextTokens ?? DEFAULT_CONTEXT_TOKENS, reasoning: entry.reasoning ?? false, available: entry.available ?? true })),
    }),
    ...createSessionPageMethods({ assistant, canonicalize, defaults }),
    ...createAgentIdentityMethods({ assistant, canonicalize }),
    ...createUserPrefsMethods(new UserPrefs(join(config.stateDir, CONTROL_UI_PREFS_FILE))),
    ...createEmptyFamilyMethods(),
    ...createPairingMethods({ channels: host.channels }),
  };
}

/** The configured models in chain order; a model cooling down after failures is not available. */
function modelInfos(host: ChannelHost): ModelInfo[] {
  const { catalog, cooldowns } = host.models;
  return catalog.list().map((entry) => ({
    provider: entry.kind,
    model: entry.model,
    available: cooldowns.remainingMs(entry.cooldownKey) === 0,
  }));
}

/** The configured chain with each model's cooldown, for usage.status. */
function statusModels(host: ChannelHost): StatusModel[] {
  const { config } = host;
  const { cooldowns } = host.models;
  if (config.provider === undefined) return [];
  const cooling = new Map(cooldowns.list().map((state) => [state.key, state]));
  return [config.provider, ...config.provider.fallbacks].map((endpoint) => {
    const key = modelKey(endpoint);
    const state = cooling.get(key);
    const model: StatusModel = { provider: endpoint.kind, model: endpoint.model, cooldownMs: cooldowns.remainingMs(key) };
    if (state !== undefined && model.cooldownMs > 0) model.lastError = state.lastError;
    return model;
  });
}

/** Model fields of session rows, as OpenClaw reports them. */
function sessionDefaults(config: PincerConfig): SessionDefaults {
  return {
    model: config.provider?.model ?? '',
    provider: config.provider?.kind ?? '',
    contextTokens: DEFAULT_CONTEXT_TOKENS,
  };
}
