/**
 * Which built-in tools a config turns on, by the names the model sees.
 * `pincer doctor` lists them; the tool registry builds exactly these.
 */

import type { PincerConfig, ToolsConfig } from '../../config/schema.js';

/** Config key → tool name, in the order tools are offered to the model. */
export const TOOL_CONFIG_KEYS = {
  read_file: 'readFile',
  write_file: 'writeFile',
  edit_file: 'editFile',
  list_dir: 'listDir',
  exec: 'exec',
  web_fetch: 'webFetch',
  cron: 'cron',
} as const satisfies Record<string, Exclude<keyof ToolsConfig, 'maxIterations'>>;

export type BuiltinToolName = keyof typeof TOOL_CONFIG_KEYS;

/** Names of the enabled built-in tools, e.g. `['read_file', 'write_file', 'edit_file', 'list_dir', 'web_fetch', 'cron']`. */
export function enabledToolNames(config: Pick<PincerConfig, 'tools'>): BuiltinToolName[] {
  return (Object.keys(TOOL_CONFIG_KEYS) as BuiltinToolName[]).filter((name) => config.tools[TOOL_CONFIG_KEYS[name]].enabled);
}
