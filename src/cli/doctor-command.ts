/**
 * `pincer doctor [--json]`: report dangerous settings without starting the
 * gateway or changing any file. Exits 1 when a finding is critical.
 */

import { enabledToolNames } from '../agent/tools/enabled-tools.js';
import { loadConfig } from '../config/load-config.js';
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
  findings: Finding[];
}

export async function runDoctor(options: Record<string, unknown>): Promise<void> {
  const config = loadConfig({
    flags: { stateDir: stringOption(options, 'stateDir'), configPath: stringOption(options, 'config') },
  });
  const enabledTools = enabledToolNames(config);
  const findings = checkConfig(config, { enabledTools });
  const report: DoctorReport = {
    ok: !hasCritical(findings),
    stateDir: config.stateDir,
    configPath: config.configPath,
    enabledTools,
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
