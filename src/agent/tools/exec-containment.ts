/**
 * How exec keeps a command's processes from outliving its run or the
 * gateway, and its hands off the gateway's files.
 *
 * - `bwrap` (bubblewrap): the command gets its own PID namespace, so every
 *   process it starts, daemons included, dies with it; the sandbox dies with
 *   the gateway (`--die-with-parent`, even on SIGKILL); the workspace is
 *   writable, the state directory and config file are not visible, everything
 *   else is read-only, and the network is off unless allowed.
 * - `process-group` (no bwrap): the command runs in its own process group,
 *   which is killed when the run ends and when the gateway exits; processes
 *   that left the group are found by a per-run environment marker and killed
 *   too. A process that both leaves the group and clears its environment, or
 *   anything still running when the gateway is killed with SIGKILL, escapes.
 */

import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { ConfigError } from '../../config/config-error.js';
import type { ExecSandboxMode } from '../../config/schema.js';

export type ExecContainmentKind = 'bwrap' | 'process-group';

/** Environment variable that tags every process of one run in process-group mode. */
export const RUN_MARKER_VAR = 'PINCER_EXEC_RUN';
/** When the marker sweep runs again after a run ends, ms. */
const RESWEEP_DELAYS_MS = [50, 250, 1_000];
/** The bwrap probe must finish within this (ms). */
const PROBE_TIMEOUT_MS = 5_000;

export interface ExecContainment {
  kind: ExecContainmentKind;
  /** Why bwrap is not used (absent when it is). */
  reason?: string;
}

let probeResult: { ok: true } | { ok: false; reason: string } | undefined;

/** Whether bwrap can build a sandbox on this machine (checked once per process). */
export function probeBwrap(): { ok: true } | { ok: false; reason: string } {
  probeResult ??= runProbe();
  return probeResult;
}

function runProbe(): { ok: true } | { ok: false; reason: string } {
  const result = spawnSync('bwrap', [...baseArgs(false), '--', 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: PROBE_TIMEOUT_MS });
  if (result.error !== undefined) {
    const code = (result.error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? 'bwrap is not installed' : `bwrap did not start (${code ?? result.error.message})` };
  }
  if (result.status === 0) return { ok: true };
  const detail = result.stderr.toString('utf8').trim().split('\n')[0] ?? '';
  return { ok: false, reason: `bwrap cannot build a sandbox here${detail === '' ? '' : `: ${detail}`}` };
}

/**
 * What `tools.exec.sandbox` comes to on this machine, without throwing:
 * `unavailable` when bwrap is demanded but cannot run (`pincer doctor` reports it).
 */
export function judgeContainment(mode: ExecSandboxMode): { kind: ExecContainmentKind | 'unavailable'; reason?: string } {
  if (mode === 'none') return { kind: 'process-group', reason: 'tools.exec.sandbox is "none"' };
  const probe = probeBwrap();
  if (probe.ok) return { kind: 'bwrap' };
  return { kind: mode === 'bwrap' ? 'unavailable' : 'process-group', reason: probe.reason };
}

/**
 * The containment in force for `tools.exec.sandbox`. Throws ConfigError
 * (exit 78) when `bwrap` is demanded but cannot run.
 */
export function resolveContainment(mode: ExecSandboxMode): ExecContainment {
  const judged = judgeContainment(mode);
  if (judged.kind !== 'unavailable') return { kind: judged.kind, ...(judged.reason === undefined ? {} : { reason: judged.reason }) };
  throw new ConfigError(`tools.exec.sandbox is "bwrap" but ${judged.reason ?? 'bwrap cannot run'}; install bubblewrap or set tools.exec.sandbox to "auto"`, {
    field: 'tools.exec.sandbox',
  });
}

export interface SandboxLayout {
  /** Real path of the workspace: the one writable place. */
  workspace: string;
  /** The gateway's own directories and files, made invisible (missing ones are skipped). */
  hidden: readonly string[];
  /** Keep the host network (default off). */
  network: boolean;
}

/** The program and arguments that run `shell -c command` under this containment. */
export function wrapCommand(kind: ExecContainmentKind, shell: string, command: string, layout: SandboxLayout): { file: string; args: string[] } {
  if (kind === 'process-group') return { file: shell, args: ['-c', command] };
  const dirs: string[] = [];
  const files: string[] = [];
  for (const path of layout.hidden) {
    const info = statOrUndefined(path);
    if (info?.isDirectory()) dirs.push(realpathSync(path));
    else if (info !== undefined) files.push(realpathSync(path));
  }
  // A file inside a hidden directory is gone with it; only files elsewhere need covering.
  const loneFiles = files.filter((file) => !dirs.some((dir) => file.startsWith(`${dir}/`)));
  return {
    file: 'bwrap',
    args: [
      ...baseArgs(layout.network),
      '--tmpfs',
      '/tmp',
      // Directories vanish under an empty tmpfs; the workspace is bound back on top (it may live in one).
      ...dirs.flatMap((dir) => ['--tmpfs', dir]),
      '--bind',
      layout.workspace,
      layout.workspace,
      ...loneFiles.flatMap((file) => ['--ro-bind', '/dev/null', file]),
      '--chdir',
      layout.workspace,
      '--',
      shell,
      '-c',
      command,
    ],
  };
}

function baseArgs(network: boolean): string[] {
  return [
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    '--unshare-pid', '--unshare-ipc', '--unshare-uts',
    ...(network ? [] : ['--unshare-net']),
    '--die-with-parent',
    '--new-session',
  ];
}

/** Live runs: process group id → run marker, so the gateway's exit can end them all. */
const liveRuns = new Map<number, string>();
let exitHookInstalled = false;

/** A fresh marker for one run (the value of RUN_MARKER_VAR). */
export function newRunMarker(): string {
  return randomUUID();
}

/** Remember a started run until endRun; the first call installs the gateway-exit hook. */
export function trackRun(pid: number, marker: string): void {
  liveRuns.set(pid, marker);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', endAllRuns);
  }
}

/**
 * Kill everything a run started: its process group and, in process-group
 * mode, any process still carrying its marker. Returns how many strays the
 * marker found.
 */
export function endRun(pid: number | undefined, marker: string, sweep: boolean): number {
  if (pid === undefined) return 0;
  killGroup(pid);
  liveRuns.delete(pid);
  if (!sweep) return 0;
  // A process caught between fork and exec can show an empty environment for an instant: look again shortly.
  for (const delayMs of RESWEEP_DELAYS_MS) setTimeout(() => killMarked(marker), delayMs).unref();
  return killMarked(marker);
}

function endAllRuns(): void {
  for (const [pid, marker] of liveRuns) {
    killGroup(pid);
    killMarked(marker);
  }
  liveRuns.clear();
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

/** SIGKILL every process whose environment holds RUN_MARKER_VAR=marker (Linux /proc; elsewhere none). */
function killMarked(marker: string): number {
  const needle = Buffer.from(`\0${RUN_MARKER_VAR}=${marker}\0`);
  let killed = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${entry}/environ`);
    } catch {
      continue;
    }
    if (!Buffer.concat([Buffer.from([0]), environ]).includes(needle)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed++;
    } catch {
      // Exited meanwhile.
    }
  }
  return killed;
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
