/**
 * Keep the secrets of an MCP server's config (its env values and header
 * values) out of logs, error messages and tool results: a server may echo
 * them on stderr or in an error.
 */

import type { McpServerConfig } from '../config/mcp-config.js';
import { REDACTED_SENTINEL } from '../security/redact-config.js';

/** Shorter values are too likely to be ordinary words to be worth replacing (chars). */
const MIN_SECRET_CHARS = 6;

/** The env and header values of a server, longest first. */
export function secretValuesOf(config: McpServerConfig): string[] {
  const values = config.transport === 'stdio' ? Object.values(config.env) : Object.values(config.headers);
  const secrets = new Set<string>();
  for (const value of values) {
    if (value.length >= MIN_SECRET_CHARS) secrets.add(value);
    // "Bearer <token>": the token alone may show up as well.
    const last = value.split(/\s+/).at(-1) ?? '';
    if (last !== value && last.length >= MIN_SECRET_CHARS) secrets.add(last);
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of a secret replaced by the redaction sentinel. */
export function redactValues(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED_SENTINEL);
  return out;
}
