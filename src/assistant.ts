/**
 * Part of the composition root (main.ts): the session store, the event bus,
 * the provider and the agent service that every channel shares.
 */

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeMissingProviderKey } from './config/provider-key.js';
import { createAgentService, type PincerAgentService } from './agent/agent-service.js';
import { createBuiltinTools } from './agent/tools/builtin-tools.js';
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
import type { Logger } from './util/logger.js';
import { readPackageVersion } from './util/package-info.js';

/** Sub-directory of the state dir holding the session files. */
export const SESSIONS_DIR_NAME = 'sessions';

export interface Assistant {
  readonly store: FileSessionStore;
  readonly bus: OutboundBus<AgentEvent>;
  readonly agent: PincerAgentService;
  /** Models that failed recently and are skipped until their cooldown ends. */
  readonly cooldowns: ModelCooldowns;
  /** provider.cost over the built-in estimates. */
  readonly prices: PriceBook;
  /** The configured models, for models.list and sessions.patch { model }. */
  readonly models: ModelCatalog;
  /** The enabled built-in tools. */
  readonly builtinTools: readonly ToolSpec[];
  /** Present when at least one MCP server is configured. */
  readonly mcp: McpManager | undefined;
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
): Promise<Assistant> {
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
  const builtin = createBuiltinTools(config, gatewayOwnFiles(config));
  const mcp = await startMcp(config, logger);
  // Stop the servers after the drain (runs are over), before the store closes.
  if (mcp !== undefined) cleanups.push(() => mcp.close());
  const agent = createAgentService({
    store,
    bus,
    provider: models.defaultProvider(),
    selectProvider: (model) => models.providerFor(model),
    tools: mcp === undefined ? builtin.tools : () => [...builtin.tools, ...mcp.tools()],
    executeTool: mcp === undefined ? builtin.executeTool : (call, signal) => (mcp.owns(call.name) ? mcp.callTool(call.name, call.arguments, signal) : builtin.executeTool(call, signal)),
    options: { ...config.agent, maxToolIterations: config.tools.maxIterations },
    logger: agentLogger,
    prices,
  });
  agentLogger.info('tools', { enabled: builtin.tools.map((tool) => tool.name), workspace: config.agent.workspaceDir });
  // A shutdown signal while the store opened: leave the repair to the next start.
  if (signal?.aborted) return { store, bus, agent, cooldowns, prices, models, builtinTools: builtin.tools, mcp };
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
  return { store, bus, agent, cooldowns, prices, models, builtinTools: builtin.tools, mcp };
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
  return [{ path: config.stateDir, except: join(config.stateDir, WORKSPACE_DIR_NAME) }, { path: config.configPath }];
}
