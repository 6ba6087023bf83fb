/**
 * `pincer doctor [--json]`: report dangerous settings without starting the
 * gateway or changing any file. Exits 1 when a finding is critical.
 */

import { enabledToolNames } from '../agent/tools/enabled-tools.js';
import { judgeContainment } from '../agent/tools/exec-containment.js';
import type { McpProbe } from '../mcp/probe-servers.js';
import { loadConfig } from '../config/load-config.js';
import type { PincerConfig } from '../config/schema.js';
import { readPackageVersion } from '../util/package-info.js';
import { checkConfig, hasCritical, type Finding } from './doctor-checks.js';
import { EXIT_FAILURE } from './cli-errors.js';
import { stringOption } from './option-parsers.js';

/** Shape of `--json` output (stable for scripts). */
export interface DoctorReport {
  ok: boolean;
  stateDir: string;
  configPath: string;
  /** Built-in tools the model is offered. */
  enabledTools: string[];
  /** How exec commands are contained, when exec is enabled. */
  execSandbox?: 'bwrap' | 'process-group' | 'unavailable';
  /** Configured MCP servers, each started once to list its tools. */
  mcpServers: McpProbe[];
  findings: Finding[];
}

export async function runDoctor(options: Record<string, unknown>): Promise<void> {
  const config = loadConfig({
    flags: { stateDir: stringOption(options, 'stateDir'), configPath: stringOption(options, 'config') },
    // Load it anyway so the overlap is reported as a finding, next to everything else.
    allowUnsafeWorkspace: true,
  });
  const enabledTools = enabledToolNames(config);
  const execContainment = enabledTools.includes('exec') ? judgeContainment(config.tools.exec.sandbox) : undefined;
  const mcpServers = await probeMcp(config);
  const findings = sortFindings([...checkConfig(config, { enabledTools, execContainment }), ...mcpFindings(mcpServers)]);
  const report: DoctorReport = {
    ok: !hasCritical(findings),
    stateDir: config.stateDir,
    configPath: config.configPath,
    enabledTools,
    ...(execContainment === undefined ? {} : { execSandbox: execContainment.kind }),
    mcpServers,
    findings,
  };
  process.stdout.write(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  if (!report.ok) process.exitCode = EXIT_FAILURE;
}

function formatReport(report: DoctorReport): string {
  const counts = { critical: 0, warn: 0, info: 0 };
  for (const finding of report.findings) counts[finding.severity]++;
  const lines = [
    `pincer doctor: ${report.configPath}`,
    `enabled tools: ${report.enabledTools.length === 0 ? 'none' : report.enabledTools.join(', ')}`,
    ...(report.execSandbox === undefined ? [] : [`exec sandbox: ${report.execSandbox}`]),
    ...report.mcpServers.map((server) => `mcp server ${server.name}: ${server.state}${server.state === 'ready' ? `, tools: ${server.tools.map((tool) => tool.name).join(', ') || 'none'}` : ''}`),
    ...report.findings.flatMap((finding) => [
      `${finding.severity.toUpperCase().padEnd(8)} ${finding.id}: ${finding.message}`,
      ...(finding.fix === undefined ? [] : [`         fix: ${finding.fix}`]),
    ]),
    report.findings.length === 0
      ? 'no problems found'
      : `${counts.critical} critical, ${counts.warn} warning${counts.warn === 1 ? '' : 's'}, ${counts.info} info`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The MCP code (and its SDK) loads only when a server is configured. */
async function probeMcp(config: PincerConfig): Promise<McpProbe[]> {
  if (Object.keys(config.mcp.servers).length === 0) return [];
  const { probeMcpServers } = await import('../mcp/probe-servers.js');
  return probeMcpServers(config, readPackageVersion());
}

/** One warning per enabled MCP server that would not start. */
function mcpFindings(probes: readonly McpProbe[]): Finding[] {
  return probes
    .filter((probe) => probe.state === 'failed')
    .map((probe) => ({
      id: 'mcp.server-unavailable',
      severity: 'warn' as const,
      message: `MCP server ${probe.name} did not start: ${probe.lastError ?? 'unknown error'}; the model gets none of its tools until it does`,
      fix: `check mcp.servers.${probe.name} (command, args, url, headers), or set its enabled to false`,
    }));
}

function sortFindings(findings: Finding[]): Finding[] {
  const order = { critical: 0, warn: 1, info: 2 };
  return findings.sort((a, b) => order[a.severity] - order[b.severity]);
}
