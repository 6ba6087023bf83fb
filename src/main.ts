/**
 * Composition root: loads the config, builds the logger, auth, the HTTP
 * gateway and (as they land) the session store, bus, agent and channels,
 * and wires them together. The CLI and the tests start Pincer through here.
 */

import type { AuthSecretResolver } from './security/secret-compare.js';
import { prepareAuth } from './config/auth-secret.js';
import type { EnvSource } from './config/env.js';
import type { ConfigFlags } from './config/load-config.js';
import { loadConfig } from './config/load-config.js';
import type { FileConfig, PincerConfig } from './config/schema.js';
import type { GatewayServer } from './gateway/gateway-server.js';
import { createGatewayServer } from './gateway/gateway-server.js';
import type { Logger } from './util/logger.js';
import { httpUrlFor } from './util/host-format.js';
import { createLogger } from './util/logger.js';
import { readPackageVersion } from './util/package-info.js';

export interface StartPincerOptions {
  /** An already loaded config. When absent, one is loaded from flags, overrides and env. */
  config?: PincerConfig;
  /** Command-line style values (highest precedence). */
  flags?: ConfigFlags;
  /** Config-file-shaped values, above the file and env, below flags. */
  overrides?: FileConfig;
  /** Environment to read instead of process.env (tests pass {} to stay hermetic). */
  env?: EnvSource;
  /** Default: JSON lines on stderr at config.logLevel. */
  logger?: Logger;
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
}

/**
 * Start Pincer: config, logger, auth, gateway, listen, then mark ready.
 * Throws ConfigError (exitCode 78) for bad config and ListenError when the
 * port cannot be bound; nothing is left running after a throw.
 */
export async function startPincer(options: StartPincerOptions = {}): Promise<PincerHandle> {
  const config = options.config ?? loadConfig({ flags: options.flags, overrides: options.overrides, env: options.env });
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const version = readPackageVersion();

  const auth = await prepareAuth(config, (error) => logger.warn('cannot read token file; rejecting connects', { err: error }));
  for (const warning of auth.tokenFile?.warnings ?? []) logger.warn(warning);

  const gateway = createGatewayServer({
    host: config.gateway.host,
    port: config.gateway.port,
    websocket: config.gateway.websocket,
    version,
    drainTimeoutMs: config.gateway.drainTimeoutMs,
    logger: logger.child({ component: 'gateway' }),
  });
  /** Run after the gateway has drained, last registered first. */
  const cleanups: (() => void | Promise<void>)[] = [];

  // Listen before building the rest so a busy port fails fast and /health answers during start-up.
  const address = await gateway.listen();
  try {
    // Channels refuse new work with UNAVAILABLE while `gateway.phase` is 'draining' or 'closed' (protocol.md §8.6).

    // ── Wiring point: session store ───────────────────────────────────────
    // const sessions = new FileSessionStore({ dir: join(config.stateDir, 'sessions'), logger: logger.child({ component: 'sessions' }) });
    // cleanups.push(() => sessions.close());

    // ── Wiring point: bus ─────────────────────────────────────────────────
    // const bus = createEventBus<AgentEvent>();

    // ── Wiring point: provider + agent service ────────────────────────────
    // Provider SDKs load lazily inside the factory (await import) so they cost nothing at start-up.
    // const agent = createAgentService({ sessions, bus, provider: config.provider, ...config.agent });
    // cleanups.push(() => agent.close());

    // ── Wiring point: OpenClaw WebSocket channel ──────────────────────────
    // const channel = createOpenClawChannel({ ...config.gateway, port: address.port, getAuthSecret: auth.getAuthSecret,
    //   agent, sessions, bus, isDraining: () => gateway.phase !== 'ready', version, logger: logger.child({ component: 'openclaw' }) });
    // gateway.setUpgradeHandler((req, socket, head) => channel.handleUpgrade(req, socket, head));
    // gateway.onDrain('openclaw', ({ reason }) => channel.shutdown(reason));
    // cleanups.push(() => channel.close());

    // ── Wiring point: OpenAI-compatible HTTP channel ──────────────────────
    // if (config.openaiHttp.enabled) gateway.addRoute(createOpenAiHttpHandler({ agent, bus, getAuthSecret: auth.getAuthSecret, ... }));

    gateway.markStarted();
  } catch (error) {
    await gateway.close();
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
  });

  let closing: Promise<void> | undefined;
  const drain = (reason = 'shutdown'): Promise<void> => {
    closing ??= (async () => {
      await gateway.drain(reason);
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          logger.warn('cleanup failed', { err: error });
        }
      }
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
  };
}
