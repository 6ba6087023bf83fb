/**
 * The environment a child process that Pincer starts for the model (exec
 * commands, local MCP servers) inherits: an allow-list of harmless variables,
 * never the gateway's own settings or credentials (DATABASE_URL, GH_PAT, …),
 * plus the variables configured for that child.
 */

import type { EnvSource } from './env.js';

/** Passed on by name. */
export const CHILD_ENV_NAMES: readonly string[] = ['PATH', 'HOME', 'LANG', 'TERM', 'TZ', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR'];
/** Passed on by prefix: the locale categories. */
const CHILD_ENV_PREFIX = /^LC_[A-Z_]+$/;

/**
 * The allow-listed part of `source` (default process.env) with `extra` on top.
 * Values that look like exported shell functions are dropped (Shellshock-style payloads).
 */
export function buildChildEnv(extra: Readonly<Record<string, string>> = {}, source: EnvSource = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || value.startsWith('()')) continue;
    if (CHILD_ENV_NAMES.includes(name) || CHILD_ENV_PREFIX.test(name)) env[name] = value;
  }
  return Object.assign(env, extra);
}
