/**
 * The checks behind `pincer doctor`: dangerous settings in a loaded config
 * and on disk, each a finding with a stable id and a severity. Read-only:
 * nothing is created, fixed or started, and no secret is ever put in a
 * finding (only lengths and paths).
 */

import { readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { isLoopbackHost } from '../config/auth-secret.js';
import { TOKEN_FILE_NAME } from '../config/defaults.js';
import { describeMissingProviderKey } from '../config/provider-key.js';
import type { PincerConfig } from '../config/schema.js';
import { describeUnsafeWorkspace } from '../config/workspace-placement.js';

export type Severity = 'info' | 'warn' | 'critical';

export interface Finding {
  /** Stable, dotted: `<area>.<problem>`. */
  id: string;
  severity: Severity;
  message: string;
  /** What to change; absent for purely informative findings. */
  fix?: string;
}

/** Below this a shared secret is guessable by an online attacker in reach of the port, chars. */
export const CRITICAL_SECRET_CHARS = 16;
/** The generated token is 43 chars; shorter hand-made secrets get a warning, chars. */
export const RECOMMENDED_SECRET_CHARS = 32;

const OTHER_BITS = 0o007;
const GROUP_BITS = 0o070;
const WRITE_BITS = 0o022;
const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warn: 1, info: 2 };

export interface DoctorInput {
  /** Names of the enabled built-in tools (the agent layer decides them; doctor only judges). */
  enabledTools: readonly string[];
  /**
   * How exec commands would be contained (the agent layer probes it): `bwrap`,
   * `process-group` (with why no sandbox), or `unavailable` when
   * `tools.exec.sandbox` demands bwrap and it cannot run. Absent when exec is off.
   */
  execContainment?: { kind: 'bwrap' | 'process-group' | 'unavailable'; reason?: string };
}

/** Every finding for this config, most severe first. */
export function checkConfig(config: PincerConfig, input: DoctorInput): Finding[] {
  const findings = [
    ...checkBind(config),
    ...checkOrigins(config),
    ...checkSecret(config),
    ...checkFiles(config),
    ...checkWorkspace(config),
    ...checkTools(config, input),
    ...checkProviderKey(config),
    ...checkTelegram(config),
  ];
  return findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

/** True when any finding is critical (the command then exits non-zero). */
export function hasCritical(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.severity === 'critical');
}

function checkBind(config: PincerConfig): Finding[] {
  const { host } = config.gateway;
  if (isLoopbackHost(host)) return [];
  if (config.auth.token === undefined && config.auth.password === undefined) {
    return [
      {
        id: 'gateway.non-loopback-without-secret',
        severity: 'critical',
        message: `gateway.host is ${host} but no token or password is configured: the gateway refuses to start (exit 78), since the generated token is meant for this machine only`,
        fix: 'set auth.token (or PINCER_TOKEN) to a long random secret, or bind 127.0.0.1',
      },
    ];
  }
  return [
    {
      id: 'gateway.non-loopback-bind',
      severity: 'warn',
      message: `gateway.host is ${host}: the gateway is reachable from other machines, and anyone who learns the secret controls the assistant`,
      fix: 'bind 127.0.0.1 and reach it through an SSH tunnel or a TLS reverse proxy',
    },
  ];
}

function checkProviderKey(config: PincerConfig): Finding[] {
  const missing = describeMissingProviderKey(config);
  if (missing === undefined) return [];
  return [{ id: 'provider.api-key-missing', severity: 'warn', message: missing, fix: 'set the key, or point provider.baseUrl at a local server (Ollama, vLLM) that needs none; until then every chat ends with the provider\'s 401' }];
}

/** A bot anyone can find and command is worth a loud warning (OpenClaw's doctor flags the same). */
function checkTelegram(config: PincerConfig): Finding[] {
  const telegram = config.channels.telegram;
  if (!telegram.enabled) return [];
  const findings: Finding[] = [];
  if (telegram.dmPolicy === 'open') {
    findings.push({
      id: 'channels.telegram.dm-policy-open',
      severity: telegram.groupPolicy === 'open' ? 'critical' : 'warn',
      message: 'channels.telegram.dmPolicy is "open": any Telegram account that finds the bot can talk to the assistant and use its tools',
      fix: 'use dmPolicy "pairing" (approve each sender with pincer pairing approve) or "allowlist" with your numeric user id in allowFrom',
    });
  }
  if (telegram.groupPolicy === 'open') {
    findings.push({
      id: 'channels.telegram.group-policy-open',
      severity: 'warn',
      message: 'channels.telegram.groupPolicy is "open": anyone in an allowed group can command the bot',
      fix: 'use groupPolicy "allowlist" with groupAllowFrom (or allowFrom) listing the people who may',
    });
  }
  return findings;
}

function checkOrigins(config: PincerConfig): Finding[] {
  if (!config.gateway.allowedOrigins.includes('*')) return [];
  return [
    {
      id: 'gateway.allow-all-origins',
      severity: 'critical',
      message: 'gateway.allowedOrigins contains "*": any web page the operator visits may open the WebSocket and try the secret',
      fix: 'list the exact origins of the pages that need the gateway, e.g. "https://chat.example.com"',
    },
  ];
}

function checkSecret(config: PincerConfig): Finding[] {
  const { token, password } = config.auth;
  if (token !== undefined) return secretLength('auth.token', token.length);
  if (password !== undefined) return secretLength('auth.password', password.length);
  const path = join(config.stateDir, TOKEN_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      return [{ id: 'auth.token-file-missing', severity: 'info', message: `no token file yet; the gateway generates ${path} on its first start` }];
    }
    return [{ id: 'auth.token-file-unreadable', severity: 'warn', message: `cannot read token file ${path} (${errorCode(error) ?? 'error'}); the gateway will refuse every connect` }];
  }
  return secretLength(`token file ${path}`, text.trim().length);
}

function secretLength(where: string, length: number): Finding[] {
  if (length >= RECOMMENDED_SECRET_CHARS) return [];
  const severity: Severity = length < CRITICAL_SECRET_CHARS ? 'critical' : 'warn';
  return [
    {
      id: 'auth.short-secret',
      severity,
      message: `the secret in ${where} is ${length} characters long (at least ${RECOMMENDED_SECRET_CHARS} recommended)`,
      fix: 'use `pincer token --rotate` with no configured secret, or set a random secret of 32+ characters',
    },
  ];
}

function checkTools(config: PincerConfig, input: DoctorInput): Finding[] {
  const { enabledTools, execContainment } = input;
  const findings: Finding[] = [];
  if (enabledTools.includes('exec')) {
    // Shell access is one stolen secret or one hostile page away when the gateway is exposed.
    const exposed = !isLoopbackHost(config.gateway.host) || config.gateway.allowedOrigins.includes('*');
    findings.push({
      id: 'tools.exec-enabled',
      severity: exposed ? 'critical' : 'warn',
      message: `the exec tool is enabled: the model can run any shell command as this user${exposed ? ', on a gateway reachable beyond this machine or from any web page' : ''}; ${describeContainment(execContainment)}`,
      fix: 'set tools.exec.enabled to false unless you need it, and keep the gateway on 127.0.0.1',
    });
    if (execContainment?.kind === 'unavailable') {
      findings.push({
        id: 'tools.exec-sandbox-unavailable',
        severity: 'critical',
        message: `tools.exec.sandbox is "bwrap" but ${execContainment.reason ?? 'bwrap cannot run'}: the gateway refuses to start (exit 78)`,
        fix: 'install bubblewrap (Debian: apt-get install bubblewrap), or set tools.exec.sandbox to "auto"',
      });
    }
  }
  if (enabledTools.includes('web_fetch') && config.tools.webFetch.allowPrivateNetwork) {
    findings.push({
      id: 'tools.web-fetch-private-network',
      severity: 'warn',
      message: 'web_fetch may reach private and loopback addresses, including this gateway and other local services',
      fix: 'set tools.webFetch.allowPrivateNetwork to false',
    });
  }
  return findings;
}

function checkWorkspace(config: PincerConfig): Finding[] {
  const problem = describeUnsafeWorkspace(config.agent.workspaceDir, config.stateDir);
  if (problem === undefined) return [];
  return [
    {
      id: 'agent.workspace-holds-state',
      severity: 'critical',
      message: `agent.workspaceDir ${config.agent.workspaceDir} overlaps the state directory (${problem}): the file tools would reach the token, config and sessions, so the gateway refuses to start (exit 78)`,
      fix: 'set agent.workspaceDir to a directory outside the state directory, or remove it to use <state-dir>/workspace',
    },
  ];
}

function describeContainment(containment: DoctorInput['execContainment']): string {
  if (containment === undefined) return 'containment unknown';
  if (containment.kind === 'bwrap') return 'commands run in a bwrap sandbox (own PID namespace, state directory hidden, rest read-only)';
  if (containment.kind === 'unavailable') return 'the required bwrap sandbox cannot run';
  return `no sandbox (${containment.reason ?? 'bwrap not used'}): commands are contained by process group only and can read everything this user can`;
}

function checkFiles(config: PincerConfig): Finding[] {
  const findings: Finding[] = [];
  const stateDir = statOrUndefined(config.stateDir);
  if (stateDir !== undefined) findings.push(...modeFindings('fs.state-dir-open', 'state directory', config.stateDir, stateDir, '0700'));
  const configFile = statOrUndefined(config.configPath);
  if (configFile !== undefined) findings.push(...modeFindings('fs.config-readable', 'config file', config.configPath, configFile, '0600'));
  const tokenPath = join(config.stateDir, TOKEN_FILE_NAME);
  const tokenFile = statOrUndefined(tokenPath);
  if (tokenFile !== undefined && (tokenFile.mode & (OTHER_BITS | GROUP_BITS)) !== 0) {
    findings.push(modeFinding('fs.token-file-readable', 'critical', 'token file', tokenPath, tokenFile.mode & 0o777, '0600'));
  }
  return findings;
}

/** Both may hold secrets: world access or group write is critical, group read a warning. */
function modeFindings(id: string, what: string, path: string, info: Stats, wanted: string): Finding[] {
  const mode = info.mode & 0o777;
  if ((mode & (OTHER_BITS | WRITE_BITS)) !== 0) return [modeFinding(id, 'critical', what, path, mode, wanted)];
  if ((mode & GROUP_BITS) !== 0) return [modeFinding(id, 'warn', what, path, mode, wanted)];
  return [];
}

function modeFinding(id: string, severity: Severity, what: string, path: string, mode: number, wanted: string): Finding {
  return {
    id,
    severity,
    message: `${what} ${path} has mode ${mode.toString(8).padStart(4, '0')}: other users can reach it`,
    fix: `chmod ${wanted} ${path}`,
  };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
