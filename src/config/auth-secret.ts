/**
 * Which shared secret the gateway accepts, resolved per connection attempt:
 * a configured token or password, or else the generated token file, re-read
 * whenever it changes so `pincer token --rotate` takes effect on the next connect.
 */

import type { Stats } from 'node:fs';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import { isLoopbackHost } from './loopback.js';
import type { PincerConfig } from './schema.js';
import type { TokenFile } from './token-file.js';
import { ensureStateDir, ensureTokenFile } from './token-file.js';

export { isLoopbackHost };

/** Same shape as AuthSecret in security/secret-compare.ts (config/ imports nothing from src). */
export interface ResolvedSecret {
  mode: 'token' | 'password';
  secret: string;
}

export type SecretResolver = () => ResolvedSecret | undefined;

export interface AuthSecretResolverOptions {
  /** A token or password from the config file, env or flags. Wins over the token file. */
  configured?: ResolvedSecret;
  /** The generated token file, used when nothing is configured. */
  tokenFilePath?: string;
  /** Called when the token file cannot be read (the resolver then fails closed). */
  onError?: (error: unknown) => void;
}

/**
 * Build the per-connection secret lookup. With a token file, each call costs
 * one stat; the file is read again only when its inode, size or mtime change.
 * A missing, unreadable or blank file yields undefined, which must reject.
 */
export function createAuthSecretResolver(options: AuthSecretResolverOptions): SecretResolver {
  const configured = options.configured;
  if (configured !== undefined) {
    const fixed = Object.freeze({ ...configured });
    return () => fixed;
  }
  const path = options.tokenFilePath;
  if (path === undefined) return () => undefined;

  let cachedKey = '';
  let cached: ResolvedSecret | undefined;
  return () => {
    let info: Stats;
    try {
      info = statSync(path);
    } catch (error) {
      cachedKey = '';
      cached = undefined;
      if (!isMissing(error)) options.onError?.(error);
      return undefined;
    }
    const key = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
    if (key === cachedKey) return cached;
    try {
      const token = readFileSync(path, 'utf8').trim();
      cached = token === '' ? undefined : { mode: 'token', secret: token };
    } catch (error) {
      cached = undefined;
      options.onError?.(error);
    }
    cachedKey = key;
    return cached;
  };
}

/** What start-up learned about auth. */
export interface AuthSetup {
  mode: 'token' | 'password';
  getAuthSecret: SecretResolver;
  /** Present when the generated token file is in use. */
  tokenFile?: TokenFile;
}

/**
 * Decide the auth setup for a gateway start: a configured secret, or the
 * generated token file (created on first run). A non-loopback bind address
 * without a configured secret is refused with a ConfigError (exit 78).
 */
export async function prepareAuth(config: PincerConfig, onError?: (error: unknown) => void): Promise<AuthSetup> {
  const { token, password } = config.auth;
  if (token !== undefined || password !== undefined) {
    const configured: ResolvedSecret =
      token !== undefined ? { mode: 'token', secret: token } : { mode: 'password', secret: password ?? '' };
    await ensureStateDir(config.stateDir);
    return { mode: configured.mode, getAuthSecret: createAuthSecretResolver({ configured }) };
  }
  if (!isLoopbackHost(config.gateway.host)) {
    throw new ConfigError(
      `refusing to listen on ${config.gateway.host} without a configured secret: set PINCER_TOKEN (or --token, or auth.token in ${config.configPath}), or bind 127.0.0.1`,
      { field: 'auth.token', source: { kind: 'file', path: config.configPath } },
    );
  }
  const tokenFile = await ensureTokenFile(config.stateDir);
  return {
    mode: 'token',
    getAuthSecret: createAuthSecretResolver({ tokenFilePath: tokenFile.path, onError }),
    tokenFile,
  };
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}
