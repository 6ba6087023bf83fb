/**
 * Composition root: loads the config, builds the logger, auth, the HTTP
 * gateway and (as they land) the session store, bus, agent and channels,
 * and wires them together. The CLI and the tests start Pincer through here.
 */

import type { AuthSecretResolver } from './security/secret-compare.js';
import { prepareAuth } from './config/auth-secret.js';
import type { EnvSource } from './config/env.js';
import type { ConfigFlags, LoadConfigOptions } from './config/load-config.js';
import { createConfigWriter } from './config/config-writer.js';
import { createLiveConfig } from './config/live-config.js';
import { LogRing } from './util/log-ring.js';
import { redactValues } from './mcp/secret-values.js';
import { loadConfig } from './config/load-config.js';
import type { FileConfig, PincerConfig } from './config/schema.js';
import type { GatewayServer } from './gateway/gateway-server.js';
import { createGatewayServer } from './gateway/gateway-server.js';
import type { Logger } from './util/logger.js';
import { httpUrlFor } from './util/host-format.js';
import { createLogger, resolveLogFormat } from './util/logger.js';
import { readPackageVersion } from './util/package-info.js';
import { startAssistant, type StartedAssistant } from './start-assistant.js';
import type { ChannelHost, ChannelStarter, StartedChannel } from './channels/channel-host.js';
import { startOpenAiHttpChannel } from './channels/openai-http/index.js';
import { startOpenClawChannel, type ChannelStats } from './channels/openclaw/index.js';
import { startWebChannel } from './channels/web/index.js';
import { startTelegramChannel } from './channels/telegram/index.js';
import { acquireStateDirLock } from './gateway/state-dir-lock.js';
import { createAuthRateLimiter } from './security/auth-rate-limiter.js';
import { createRequestGate } from './security/request-gate.js';
import { deviceTokensPath, openDeviceTokenStore } from './security/device-token-store.js';
import { canonicalizeSessionKey } from './sessions/session-key.js';
import { AgentDirectory } from './assistant/agent-directory.js';
import { createMemoryReclaimer } from './util/memory-reclaimer.js';
import { createAgentConfigWriter } from './assistant/agent-config-writer.js';
import { agentOwnFiles } from './start-assistant.js';
/** Every channel, started in this order; each decides from the config whether it runs. */
const CHANNELS: readonly ChannelStarter[] = [startOpenClawChannel, startOpenAiHttpChannel, startWebChannel, startTelegramChannel];

export interface StartPincerOptions {
  /** An already loaded config. When absent, one is loaded from flags, overrides and env. */
  config?: PincerConfig;
  /** Command-line style values (highest precedence). */
  flags?: ConfigFlags;
  /** Config-file-shaped values, above the file and env, below flags. */
  overrides?: FileConfig;
  /**
   * How a given `config` was loaded, so config writes are checked with the same
   * flags and environment. Default: the flags, overrides and env given here, or
   * for a given `config` its state directory and config path over process.env.
   */
  loadOptions?: LoadConfigOptions;
  /** Environment to read instead of process.env (tests pass {} to stay hermetic). */
  env?: EnvSource;
  /** Default: JSON lines on stderr at config.logLevel. */
  logger?: Logger;
  /** Aborting it stops the start at its next step: what was opened is closed and StartCancelledError thrown. */
  signal?: AbortSignal;
}

/** startPincer was stopped by its abort signal (a shutdown signal during start-up); nothing is left running. */
export class StartCancelledError extends Error {
  constructor() {
    super('start-up cancelled');
    this.name = 'StartCancelledError';
  }
}

export interface PincerHandle {
  readonly config: PincerConfig;
  readonly logger: Logger;
  readonly gateway: GatewayServer;
  readonly version: string;
  readonly host: string;
  readonly port: number;
  /** http://<loopback-reachable host>:<port>, e.g. http://127.0.0.1:18789 */
  readonly url: string;
  /** ws://… form of `url`. */
  readonly wsUrl: string;
  readonly authMode: 'token' | 'password';
  /** The secret in force, resolved per call (rotation applies at once). */
  readonly getAuthSecret: AuthSecretResolver;
  /** Path of the generated token file, when it is the secret in use. */
  readonly tokenFilePath?: string;
  /** Set only when this start created the token (first run), so the CLI can say how to use it. */
  readonly generatedToken?: { path: string; token: string };
  /** Begin the drain (/ready 503, hooks within the budget), then close. Idempotent. */
  drain(reason?: string): Promise<void>;
  /** Drain with reason "close" and release everything. */
  close(): Promise<void>;
  /** Counters of the OpenClaw channel (connections, subscriptions, timers); undefined without the WebSocket. */
  channelStats(): ChannelStats | undefined;
  /** True once the scheduler has loaded: at start-up when jobs exist, else on first use. */
  cronStarted(): boolean;
}

/**
 * Start Pincer: config, logger, auth, gateway, listen, then mark ready.
 * Throws ConfigError (exitCode 78) for bad config and ListenError when the
 * port cannot be bound; nothing is left running after a throw.
 */
export async function startPincer(options: StartPincerOptions = {}): Promise<PincerHandle> {
  const loadOptions: LoadConfigOptions =
    options.loadOptions ??
    (options.config === undefined
      ? { flags: options.flags, overrides: options.overrides, env: options.env }
      : { flags: { stateDir: options.config.stateDir, configPath: options.config.configPath }, env: options.env });
  const config = options.config ?? loadConfig(loadOptions);
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: resolveLogFormat(config.logFormat, process.stderr.isTTY === true) });
  const version = readPackageVersion();
  // Every line the logger writes also goes to a bounded ring for logs.tail.
  const logRing = new LogRing();
  const removeLogSink = logger.addSink?.((line) => logRing.push(line));

  const throwIfCancelled = (): void => {
    if (options.signal?.aborted) throw new StartCancelledError();
  };
  throwIfCancelled();
  const auth = await prepareAuth(config, (error) => logger.warn('cannot read token file; rejecting connects', { err: error }));
  for (const warning of auth.tokenFile?.warnings ?? []) logger.warn(warning);

  const gateway = createGatewayServer({
    host: config.gateway.host,
    port: config.gateway.port,
    websocket: config.gateway.websocket,
    version,
    drainTimeoutMs: config.gateway.drainTimeoutMs,
    maxConnections: config.gateway.maxConnections,
    logger: logger.child({ component: 'gateway' }),
  });
  /** Run after the gateway has drained, last registered first. */
  const cleanups: (() => void | Promise<void>)[] = [];
  if (removeLogSink !== undefined) cleanups.push(removeLogSink);
  let readChannelStats: () => ChannelStats | undefined = () => undefined;
  let cronStarted = (): boolean => false;

  // Before listening: a second gateway on the same state directory must fail naming the first, not share its files.
  const lock = acquireStateDirLock(config.stateDir);
  cleanups.push(() => lock.release());
  let address: Awaited<ReturnType<GatewayServer['listen']>>;
  try {
    throwIfCancelled();
    // Listen before building the rest so a busy port fails fast and /health answers during start-up.
    address = await gateway.listen();
  } catch (error) {
    lock.release();
    throw error;
  }
  try {
    // Channels refuse new work with UNAVAILABLE while `gateway.phase` is 'draining' or 'closed' (docs/protocol.md §8.6).
    throwIfCancelled();
    const started = await startAssistant(config, logger, cleanups, options.signal);
    throwIfCancelled();
    cronStarted = () => started.cron.started;
    // No job starts once the drain begins; runs in progress end with the agent's drain.
    gateway.onDrain('cron', ({ deadlineMs }) => {
      started.heartbeat?.stop();
      return started.cron.stop(Math.max(0, deadlineMs - Date.now()));
    });

    const authLimiter = createAuthRateLimiter();
    const deviceTokens = await openDeviceTokenStore({
      path: deviceTokensPath(config.stateDir),
      onError: (message, error) => logger.warn(message, { err: error }),
    });
    cleanups.push(() => deviceTokens.flush());
    // One Host/Origin gate for the WebSocket upgrade and every HTTP route that reads the secret.
    const requestGate = createRequestGate({ ...config.gateway, port: address.port });
    const configFile = createLiveConfig({
      writer: createConfigWriter({ path: config.configPath, resolve: (fileContent) => loadConfig({ ...loadOptions, fileContent }) }),
      initial: config,
      applyHot: (next, hotPaths) => {
        if (hotPaths.includes('logLevel')) logger.setLevel?.(next.logLevel);
        if (hotPaths.some((path) => path.startsWith('provider.cost'))) started.prices.setConfigured(next.provider?.cost ?? {});
        // Agents apply at once, whether agents.* or config.set/patch/apply wrote them.
        if (hotPaths.some((path) => path === 'agents' || path.startsWith('agents.'))) started.agents.replace(next.agents);
      },
    });
    const agents = new AgentDirectory({
      roster: started.agents,
      store: started.store,
      agent: started.agent,
      stateDir: config.stateDir,
      protectedAreas: (workspaceDir) => agentOwnFiles(config, workspaceDir),
      defaultModel: defaultModelOf(config),
      writeConfig: createAgentConfigWriter(configFile),
    });
    const canonicalize = (raw: string): string => canonicalizeSessionKey(raw, { agentIds: agents.ids() });
    const channels: StartedChannel[] = [];
    const host: ChannelHost = {
      config,
      configFile,
      logs: {
        tail: (tailOptions) => {
          const tail = logRing.tail(tailOptions);
          // Keys named like secrets are redacted when written; this also catches a known secret quoted in a message.
          const secrets = knownSecrets(configFile.running(), auth.getAuthSecret()?.secret);
          return secrets.length === 0 ? tail : { ...tail, lines: tail.lines.map((line) => redactValues(line, secrets)) };
        },
      },
      assistant: started.assistant,
      tools: { builtinTools: () => started.builtinTools, mcpServers: () => started.mcp?.servers() ?? [] },
      models: { catalog: started.models, cooldowns: started.cooldowns, prices: started.prices },
      scheduler: { cron: started.cron, lastHeartbeat: () => started.lastHeartbeat() },
      events: started.bus,
      getAuthSecret: auth.getAuthSecret,
      authLimiter,
      gate: requestGate,
      deviceTokens,
      canonicalize,
      agents,
      version,
      port: address.port,
      logger,
      isDraining: () => gateway.phase !== 'ready',
      addRoute: (route) => gateway.addRoute(route),
      setUpgradeHandler: (handler) => gateway.setUpgradeHandler(handler),
      onDrain: (name, hook) => gateway.onDrain(name, ({ deadlineMs }) => hook(deadlineMs)),
      drainRuns: (budgetMs) => started.agent.drain(budgetMs),
      onClose: (cleanup) => cleanups.push(cleanup),
      addDeliveryTarget: (target) => started.delivery.addTarget(target),
      channels: () => channels,
    };
    for (const start of CHANNELS) {
      const channel = start(host);
      if (channel !== undefined) channels.push(channel);
    }
    if (!channels.some((channel) => channel.drainsRuns === true)) {
      gateway.onDrain('agent', ({ deadlineMs }) => started.agent.drain(Math.max(0, deadlineMs - Date.now())));
    }
    const openclaw = channels.find((channel) => channel.name === 'openclaw');
    readChannelStats = () => openclaw?.stats?.() as ChannelStats | undefined;

    watchMemory(gateway, started.bus, cleanups);

    throwIfCancelled();
    gateway.markStarted();
  } catch (error) {
    if (error instanceof StartCancelledError) logger.info('start-up cancelled by a shutdown signal; closing');
    await gateway.drain(error instanceof StartCancelledError ? 'shutdown' : 'close');
    await runCleanups(cleanups, logger);
    throw error;
  }

  const url = httpUrlFor(address.host, address.port);
  logger.info('gateway listening', {
    url,
    host: address.host,
    port: address.port,
    websocket: config.gateway.websocket,
    authMode: auth.mode,
    tokenFile: auth.tokenFile?.path,
    version,
    pid: process.pid,
  });

  let closing: Promise<void> | undefined;
  const drain = (reason = 'shutdown'): Promise<void> => {
    closing ??= (async () => {
      await gateway.drain(reason);
      await runCleanups(cleanups, logger);
    })();
    return closing;
  };

  return {
    config,
    logger,
    gateway,
    version,
    host: address.host,
    port: address.port,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    authMode: auth.mode,
    getAuthSecret: auth.getAuthSecret,
    tokenFilePath: auth.tokenFile?.path,
    generatedToken: auth.tokenFile?.created ? { path: auth.tokenFile.path, token: auth.tokenFile.token } : undefined,
    drain,
    close: () => drain('close'),
    channelStats: () => readChannelStats(),
    cronStarted: () => cronStarted(),
  };
}

/** Secrets of the running config worth scrubbing from log lines (long enough not to be ordinary words), longest first. */
function knownSecrets(config: PincerConfig, authSecret: string | undefined): string[] {
  const MIN_SECRET_CHARS = 8;
  const values = [authSecret, config.auth.token, config.auth.password, config.provider?.apiKey, ...(config.provider?.fallbacks ?? []).map((fallback) => fallback.apiKey)];
  const secrets = new Set(values.filter((value): value is string => value !== undefined && value.length >= MIN_SECRET_CHARS));
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** Run the clean-ups last registered first, each once; a failing one is logged and the rest still run. */
async function runCleanups(cleanups: (() => void | Promise<void>)[], logger: Logger): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      logger.warn('cleanup failed', { err: error });
    }
  }
}

/** The default chain by reference, as agents.list shows it: provider.model, then provider.fallbacks. */
function defaultModelOf(config: PincerConfig): { primary: string; fallbacks: string[] } | undefined {
  const { provider } = config;
  if (provider === undefined) return undefined;
  return { primary: `${provider.kind}/${provider.model}`, fallbacks: provider.fallbacks.map((fallback) => `${fallback.kind}/${fallback.model}`) };
}

/** Hand back what a burst of requests or runs grew once the gateway goes quiet (util/memory-reclaimer.ts). */
function watchMemory(gateway: GatewayServer, bus: StartedAssistant['bus'], cleanups: (() => void | Promise<void>)[]): void {
  const reclaimer = createMemoryReclaimer();
  const poke = (): void => reclaimer.poke();
  gateway.server.on('request', poke).on('upgrade', poke);
  const runs = bus.subscribe(poke, { filter: (event) => event.type === 'run.start' || event.type === 'run.end' });
  cleanups.push(() => {
    runs.unsubscribe();
    reclaimer.stop();
  });
}
