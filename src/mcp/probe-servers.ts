/**
 * Start every configured MCP server once, list its tools and stop it again:
 * what `pincer mcp list` and `pincer doctor` show, without a gateway. Uses
 * the same manager as the gateway, so the CLI sees what the model would.
 */

import { mkdir } from 'node:fs/promises';
import type { PincerConfig } from '../config/schema.js';
import { createLogger } from '../util/logger.js';
import { startMcpManager } from './mcp-manager.js';
import type { McpServerView } from './mcp-manager.js';

/** A server as probed: `failed` when its first start did not succeed. */
export interface McpProbe extends Omit<McpServerView, 'state' | 'nextAttemptAt' | 'restarts' | 'pid'> {
  state: 'ready' | 'failed' | 'disabled';
}

/** Probe every server of `config.mcp`; each start is bounded by its connectionTimeoutMs. Never rejects. */
export async function probeMcpServers(config: Pick<PincerConfig, 'mcp' | 'agent'>, clientVersion: string): Promise<McpProbe[]> {
  if (Object.keys(config.mcp.servers).length === 0) return [];
  await mkdir(config.agent.workspaceDir, { recursive: true, mode: 0o700 }).catch(() => undefined);
  const manager = startMcpManager({
    config: config.mcp,
    logger: createLogger({ level: 'silent' }),
    clientVersion,
    defaultCwd: config.agent.workspaceDir,
  });
  try {
    await manager.whenSettled();
    return manager.servers().map(({ state, nextAttemptAt: _next, restarts: _restarts, pid: _pid, ...rest }) => ({
      ...rest,
      state: state === 'ready' || state === 'disabled' ? state : 'failed',
    }));
  } finally {
    await manager.close();
  }
}
