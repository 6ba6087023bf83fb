/**
 * Start Pincer in-process on 127.0.0.1 with port 0, a fresh temp state dir
 * and an explicit token, isolated from the caller's environment.
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileConfig, LogLevelName } from '../../src/config/schema.js';
import type { PincerHandle } from '../../src/main.js';
import { startPincer } from '../../src/main.js';
import type { Logger } from '../../src/util/logger.js';

export interface StartGatewayOptions {
  /** Default: a random token. Pass `null` to use the generated token file instead. */
  token?: string | null;
  /** Use password auth instead of a token. */
  password?: string;
  /** Default true. */
  websocket?: boolean;
  /** Config-file-shaped overrides (provider, agent, gateway limits, …). */
  overrides?: FileConfig;
  /** Default: a new temp dir, removed by close(). */
  stateDir?: string;
  /** --config PATH (must exist); default `<stateDir>/config.json` if present. */
  configPath?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default "silent". `null` gives no --log-level flag, so the config file's logLevel is in force. */
  logLevel?: LogLevelName | null;
  logger?: Logger;
}

export interface StartedGateway {
  /** http://127.0.0.1:<port> */
  url: string;
  /** ws://127.0.0.1:<port> */
  wsUrl: string;
  port: number;
  /** The secret clients present (token or password). */
  token: string;
  stateDir: string;
  pincer: PincerHandle;
  /** Drain and close the gateway; removes the temp state dir it created. */
  close(): Promise<void>;
}

/** Start a gateway for a test. Always call close() in an after hook. */
export async function startGateway(options: StartGatewayOptions = {}): Promise<StartedGateway> {
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'pincer-test-')));
  const token =
    options.password !== undefined ? undefined : options.token === null ? undefined : (options.token ?? randomBytes(24).toString('base64url'));
  let pincer: PincerHandle;
  try {
    pincer = await startPincer({
      env: {},
      logger: options.logger,
      overrides: options.overrides,
      flags: {
        host: '127.0.0.1',
        port: options.port ?? 0,
        stateDir,
        configPath: options.configPath,
        token,
        password: options.password,
        websocket: options.websocket,
        logLevel: options.logLevel === null ? undefined : (options.logLevel ?? 'silent'),
      },
    });
  } catch (error) {
    if (ownsStateDir) await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
  const secret = pincer.getAuthSecret();
  if (secret === undefined) throw new Error('gateway started without a secret');
  return {
    url: pincer.url,
    wsUrl: pincer.wsUrl,
    port: pincer.port,
    token: secret.secret,
    stateDir,
    pincer,
    close: async () => {
      await pincer.close();
      if (ownsStateDir) await rm(stateDir, { recursive: true, force: true });
    },
  };
}
