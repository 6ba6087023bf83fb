/**
 * Part of the composition root (main.ts): the session store, the event bus,
 * the provider, the agent service and, over them, the assistant façade that
 * every channel shares.
 */

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeMissingProviderKey } from './config/provider-key.js';
import { createAgentService, type PincerAgentService } from './agent/agent-service.js';
import { AgentRoster } from './agent/agent-roster.js';
import type { IdentityFields, IdentitySource } from './assistant/identity.js';
import { createAssistant } from './assistant/assistant.js';
import type { Assistant } from './assistant/types.js';
import { createBuiltinTools } from './agent/tools/builtin-tools.js';
import { createAgentSessionTurns } from './cron/agent-session-turns.js';
import { jobsFilePath } from './cron/cron-paths.js';
import { createCronTool } from './cron/cron-tool.js';
import { createDeliveryRouter, type DeliveryRouter } from './cron/delivery.js';
import { createLazyCron, type CronHandle } from './cron/lazy-cron.js';
import type { CronServiceDeps } from './cron/cron-service.js';
import type { Heartbeat } from './cron/heartbeat.js';
import type { HeartbeatEventPayload } from './bus/scheduler-events.js';
import type { ProtectedArea } from './agent/tools/workspace-path.js';
import type { AgentEvent } from './agent/types.js';
import { createEventBus } from './bus/event-bus.js';
import type { OutboundBus } from './bus/types.js';
import { WORKSPACE_DIR_NAME } from './config/defaults.js';
import type { PincerConfig } from './config/schema.js';
import type { McpManager } from './mcp/mcp-manager.js';
import { describeProvider } from './providers/create-provider.js';
import { ModelCatalog } from './providers/model-catalog.js';
import { ModelCooldowns } from './providers/model-cooldowns.js';
import { PriceBook } from './providers/model-prices.js';
import type { ToolSpec } from './providers/types.js';
import { FileSessionStore } from './sessions/file-session-store.js';
import { canonicalizeSessionKey, DEFAULT_AGENT_ID, MAIN_SESSION_KEY } from './sessions/session-key.js';
import type { Logger } from './util/logger.js';
import { readPackageVersion } from './util/package-info.js';

/** Sub-directory of the state dir holding the session files. */
export const SESSIONS_DIR_NAME = 'sessions';

/** What start-up builds: the façade channels use, and the parts main.ts wires (drain, recovery). */
export interface StartedAssistant {
  /** The façade: the only thing channels are given. */
  readonly assistant: Assistant;
  readonly store: FileSessionStore;
  readonly bus: OutboundBus<AgentEvent>;
  readonly agent: PincerAgentService;
  /** Models that failed recently and are skipped until their cooldown ends. */
  readonly cooldowns: ModelCooldowns;
  /** provider.cost over the built-in estimates. */
  readonly prices: PriceBook;
  /** The configured models, for models.list and sessions.patch { model }. */
  readonly models: ModelCatalog;
  /** The configured agents, each with its workspace, model chain and tools. */
  readonly agents: AgentRoster;
  /** The enabled built-in tools. */
  readonly builtinTools: readonly ToolSpec[];
  /** Present when at least one MCP server is configured. */
  readonly mcp: McpManager | undefined;
  /** The scheduler, started now when jobs exist, else on first use. */
  readonly cron: CronHandle;
  /** Running only when agent.heartbeat.every is set. */
  readonly heartbeat: Heartbeat | undefined;
  /** The latest heartbeat outcome, or null. */
  lastHeartbeat(): HeartbeatEventPayload | null;
  /** Where job replies go; channels add themselves as targets. */
  readonly delivery: DeliveryRouter;
}

/**
 * Open the store, repair runs a crash cut short, and build the agent.
 * Pushes the matching clean-ups (run last-first after the drain) onto `cleanups`.
 * When `signal` is aborted after the store opened, the repair is skipped (the caller stops the start).
 */
export async function startAssistant(
  config: PincerConfig,
  logger: Logger,
  cleanups: (() => void | Promise<void>)[],
  signal?: AbortSignal,
): Promise<StartedAssistant> {
  const storeLogger = logger.child({ component: 'sessions' });
  const store = new FileSessionStore({
    dir: join(config.stateDir, SESSIONS_DIR_NAME),
    logger: { warn: (fields, message) => storeLogger.warn(message, fields) },
  });
  await store.open();
  cleanups.push(() => store.close());

  const bus = createEventBus<AgentEvent>();
  // The provider SDK loads on the first call, so a gateway that never chats never pays for it.
  const cooldowns = new ModelCooldowns();
  const prices = new PriceBook(config.provider?.cost);
  const models = new ModelCatalog(config.provider, cooldowns);
  const agentLogger = logger.child({ component: 'agent' });
  // The scheduler needs the agent and the agent needs the cron tool: the handle resolves its deps on first use.
  let cronDeps: CronServiceDeps | undefined;
  const cron = createLazyCron(() => {
    if (cronDeps === undefined) throw new Error('the scheduler is not wired yet');
    return cronDeps;
  });
  const cronTool = createCronTool(cron);
  const builtin = createBuiltinTools(config, gatewayOwnFiles(config), { cron: cronTool });
  const mcp = await startMcp(config, logger);
  // Stop the servers after the drain (runs are over), before the store closes.
  if (mcp !== undefined) cleanups.push(() => mcp.close());
  const agents = new AgentRoster(config.agents, {
    models,
    systemPrompt: config.agent.systemPrompt,
    buildTools: (entry) => createBuiltinTools({ tools: config.tools, agent: { ...config.agent, workspaceDir: entry.workspaceDir } }, agentOwnFiles(config, entry.workspaceDir), { cron: cronTool }),
    sharedTools: mcp === undefined ? undefined : { tools: () => mcp.tools(), owns: (name) => mcp.owns(name), executeTool: (call, signal) => mcp.callTool(call.name, call.arguments, signal) },
  });
  const agent = createAgentService({
    store,
    bus,
    provider: models.defaultProvider(),
    selectProvider: (model) => models.providerFor(model),
    tools: mcp === undefined ? builtin.tools : () => [...builtin.tools, ...mcp.tools()],
    executeTool: mcp === undefined ? builtin.executeTool : (call, signal, context) => (mcp.owns(call.name) ? mcp.callTool(call.name, call.arguments, signal) : builtin.executeTool(call, signal, context)),
    options: { ...config.agent, maxToolIterations: config.tools.maxIterations },
    logger: agentLogger,
    prices,
    profileOf: (sessionKey) => agents.profileOf(sessionKey),
  });
  agentLogger.info('tools', { enabled: builtin.tools.map((tool) => tool.name), workspace: config.agent.workspaceDir });
  // A shutdown signal while the store opened: leave the repair to the next start.
  const assistant = createAssistant({
    store,
    bus,
    agent,
    listed: (sessionKey) => agents.owns(sessionKey),
    identity: { configured: config.agent.identity, workspaceDir: config.agent.workspaceDir },
    identityOf: (agentId) => agentIdentitySource(agents, agentId, config.agent.identity),
  });
  const turns = createAgentSessionTurns({ assistant });
  const delivery = createDeliveryRouter({ turns, mainSessionKey: MAIN_SESSION_KEY });
  if (signal?.aborted) return { assistant, store, bus, agent, cooldowns, prices, models, agents, builtinTools: builtin.tools, mcp, cron, heartbeat: undefined, lastHeartbeat: () => null, delivery };
  const repaired = await agent.recoverInterruptedRuns();
  if (repaired > 0) agentLogger.warn('closed runs cut short by the last stop', { runs: repaired });
  if (config.provider === undefined) agentLogger.warn('no model provider configured: chats end with an error until PINCER_PROVIDER and PINCER_MODEL are set');
  else {
    agentLogger.info('model provider', {
      provider: describeProvider(config.provider),
      fallbacks: config.provider.fallbacks.map((fallback) => describeProvider(fallback)),
    });
  }
  const missingKey = describeMissingProviderKey(config);
  if (missingKey !== undefined) agentLogger.warn(missingKey);
  cronDeps = {
    stateDir: config.stateDir,
    turns,
    delivery,
    mainSessionKey: MAIN_SESSION_KEY,
    canonicalize: (raw) => canonicalizeSessionKey(raw, { agentIds: [DEFAULT_AGENT_ID] }),
    publish: (event) => bus.publish(event),
    options: { ...config.cron, maxConcurrentRuns: config.agent.maxConcurrentRuns },
    logger: logger.child({ component: 'cron' }),
  };
  // Only a gateway that has jobs loads the scheduler (and croner) at start-up.
  if (existsSync(jobsFilePath(config.stateDir))) await cron.get();
  cleanups.push(() => cron.stop());
  let heartbeat: Heartbeat | undefined;
  if (config.agent.heartbeat.everyMs > 0) {
    // Imported only when heartbeats are on.
    const { startHeartbeat } = await import('./cron/heartbeat.js');
    heartbeat = startHeartbeat({
      config: config.agent.heartbeat,
      workspaceDir: config.agent.workspaceDir,
      turns,
      mainSessionKey: MAIN_SESSION_KEY,
      publish: (event) => bus.publish(event),
      logger: logger.child({ component: 'heartbeat' }),
    });
    cleanups.push(() => heartbeat?.stop());
  }
  return { assistant, store, bus, agent, cooldowns, prices, models, agents, builtinTools: builtin.tools, mcp, cron, heartbeat, lastHeartbeat: () => heartbeat?.last() ?? null, delivery };
}

/**
 * An agent's identity: its entry's `identity` over `agent.identity` (main
 * only), its `name` standing in for a missing name, then its workspace's IDENTITY.md.
 */
function agentIdentitySource(agents: AgentRoster, agentId: string, mainIdentity: IdentityFields | undefined): IdentitySource | undefined {
  const agent = agents.get(agentId);
  if (agent === undefined) return undefined;
  const configured: IdentityFields = { ...(agent.id === agents.defaultId ? mainIdentity : {}), ...agent.identity };
  if (configured.name === undefined && agent.name !== undefined) configured.name = agent.name;
  return { configured, workspaceDir: agent.workspaceDir };
}

/**
 * Start the MCP servers in the background (they never delay /ready). The
 * manager, and the MCP SDK with it, is imported only when a server is
 * configured, so other gateways pay nothing for it.
 */
async function startMcp(config: PincerConfig, logger: Logger): Promise<McpManager | undefined> {
  if (Object.keys(config.mcp.servers).length === 0) return undefined;
  // Local servers without a cwd run in the workspace, which may not exist yet.
  await mkdir(config.agent.workspaceDir, { recursive: true, mode: 0o700 });
  const { startMcpManager } = await import('./mcp/mcp-manager.js');
  return startMcpManager({
    config: config.mcp,
    logger: logger.child({ component: 'mcp' }),
    clientVersion: readPackageVersion(),
    defaultCwd: config.agent.workspaceDir,
  });
}

/**
 * What the file tools never touch, wherever the workspace is: the state
 * directory (token, sessions) but for its default workspace, and the config file.
 */
export function gatewayOwnFiles(config: Pick<PincerConfig, 'stateDir' | 'configPath'>): ProtectedArea[] {
  return agentOwnFiles(config, join(config.stateDir, WORKSPACE_DIR_NAME));
}

/**
 * The same for one agent: its own workspace may lie in the state directory
 * (`workspace-<id>`), every other agent's there stays out of its reach.
 */
export function agentOwnFiles(config: Pick<PincerConfig, 'stateDir' | 'configPath'>, workspaceDir: string): ProtectedArea[] {
  return [{ path: config.stateDir, except: workspaceDir }, { path: config.configPath }];
}
