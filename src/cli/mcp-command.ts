/**
 * `pincer mcp list [--json]`: start each configured MCP server once, show
 * its state and the tools the model would get, and stop it. Exits 1 when an
 * enabled server does not start. Needs no running gateway.
 */

import { loadConfig } from '../config/load-config.js';
import type { McpProbe } from '../mcp/probe-servers.js';
import { probeMcpServers } from '../mcp/probe-servers.js';
import { readPackageVersion } from '../util/package-info.js';
import { EXIT_FAILURE } from './cli-errors.js';
import { stringOption } from './option-parsers.js';

/** Shape of `--json` output (stable for scripts). */
export interface McpListReport {
  ok: boolean;
  configPath: string;
  servers: McpProbe[];
}

export async function runMcpList(options: Record<string, unknown>): Promise<void> {
  const config = loadConfig({
    flags: { stateDir: stringOption(options, 'stateDir'), configPath: stringOption(options, 'config') },
  });
  const servers = await probeMcpServers(config, readPackageVersion());
  const report: McpListReport = { ok: servers.every((server) => server.state !== 'failed'), configPath: config.configPath, servers };
  process.stdout.write(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatMcpList(report));
  if (!report.ok) process.exitCode = EXIT_FAILURE;
}

/** One block per server: name, transport, state, then its tools (or why it failed). */
export function formatMcpList(report: McpListReport): string {
  if (report.servers.length === 0) return `no MCP servers configured (add mcp.servers to ${report.configPath})\n`;
  const width = Math.max(...report.servers.map((server) => server.name.length));
  const lines = [`MCP servers in ${report.configPath}:`];
  for (const server of report.servers) {
    const hidden = server.filteredOut > 0 ? `, ${server.filteredOut} hidden by toolFilter` : '';
    const summary = server.state === 'ready' ? `${server.tools.length} tool${server.tools.length === 1 ? '' : 's'}${hidden}` : server.state === 'failed' ? (server.lastError ?? '') : '';
    lines.push(`${server.name.padEnd(width)}  ${server.transport.padEnd(15)}  ${server.state.padEnd(8)}  ${summary}`.trimEnd());
    for (const tool of server.tools) lines.push(`  ${tool.name}  ${firstLine(tool.description)}`);
  }
  return `${lines.join('\n')}\n`;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}
