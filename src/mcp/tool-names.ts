/**
 * How an MCP server's tools are named for the model (`<server>__<tool>`,
 * within what both providers accept) and which of them toolFilter lets through.
 */

import { createHash } from 'node:crypto';
import type { McpToolFilter } from '../config/mcp-config.js';

/** Separates the server name from the tool name. */
export const MCP_NAME_SEPARATOR = '__';
/** OpenAI's limit for function names (Anthropic allows more), chars. */
export const MAX_TOOL_NAME_CHARS = 64;
/** Characters of a hash appended when a name had to be shortened or changed. */
const HASH_CHARS = 8;

/**
 * `<server>__<tool>`, with characters providers refuse replaced by `_` and
 * long names cut to 64 chars. A name that had to change gets a short hash of
 * the original, so two different tools never end up with the same name.
 */
export function exposedToolName(server: string, tool: string): string {
  const clean = tool.replace(/[^A-Za-z0-9_-]/g, '_');
  const name = `${server}${MCP_NAME_SEPARATOR}${clean}`;
  if (clean === tool && name.length <= MAX_TOOL_NAME_CHARS) return name;
  const hash = createHash('sha256').update(tool).digest('hex').slice(0, HASH_CHARS);
  return `${name.slice(0, MAX_TOOL_NAME_CHARS - HASH_CHARS - 1)}_${hash}`;
}

/** True when toolFilter keeps `tool` (its MCP name): included (or no include list) and not excluded. */
export function isToolAllowed(tool: string, filter: McpToolFilter): boolean {
  if (filter.include.length > 0 && !filter.include.some((pattern) => matchesGlob(pattern, tool))) return false;
  return !filter.exclude.some((pattern) => matchesGlob(pattern, tool));
}

/** An exact name, or a pattern where `*` stands for any run of characters. */
export function matchesGlob(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, 's').test(name);
}
