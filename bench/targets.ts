/**
 * Start the two benchmark targets as child processes: the Pincer gateway
 * (compiled CLI, `gateway` command) and the floor server. Each gets a free
 * loopback port, a temp state dir and a token; readiness is polled on
 * GET /ready, memory is read from /proc/<pid>/status.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when running from the TypeScript sources under tsx (the smoke test), false from compiled JS. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const EXT = FROM_SOURCE ? '.ts' : '.js';
/** From source, the TypeScript CLI; when built, the bundle beside dist/bench/ that `bin` and `npm start` run. */
const CLI_ENTRY = fileURLToPath(new URL(FROM_SOURCE ? '../src/cli/main.ts' : '../pincer.mjs', import.meta.url));
const FLOOR_ENTRY = fileURLToPath(new URL(`./floor-server${EXT}`, import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL(FROM_SOURCE ? '../package.json' : '../../package.json', import.meta.url));

/** The node flags `npm start` gives the gateway, read from package.json so the bench runs it the same way. */
export function startScriptNodeFlags(): string[] {
  const script = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = script.split(/\s+/);
  return words.slice(words.indexOf('node') + 1).filter((word) => word.startsWith('--'));
}

/** Poll period of /ready while a target starts, ms (small: it is the resolution of the ready figure). */
const READY_POLL_MS = 2;
/** Give up on a start after this, ms. */
const START_TIMEOUT_MS = 20_000;
/** Per-request bound of one /ready poll, ms. */
const POLL_REQUEST_TIMEOUT_MS = 1_000;
/** Characters of a target's stderr kept for the error of a failed start. */
const STDERR_TAIL_CHARS = 64 * 1024;
/** SIGTERM → SIGKILL grace when stopping a target, ms. */
const STOP_GRACE_MS = 5_000;

export type TargetKind = 'pincer' | 'floor';

export interface TargetOptions {
  /** Fake model base URL (OpenAI-compatible), for Pincer only. */
  modelUrl?: string;
  /** Use this state dir (kept on stop) instead of a fresh temp one (removed on stop). */
  stateDir?: string;
  /** Give up on the start after this, ms (default 20000). */
  startTimeoutMs?: number;
  /** Config sections merged over the bench config, for Pincer only (a feature turned on). */
  config?: Record<string, unknown>;
}

/** A server process the bench started and polls: Pincer, the floor or a peer gateway. */
export interface RunningTarget {
  /** What it is, for logs and errors ("pincer", "floor", "openclaw"). */
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly wsUrl: string;
  readonly token: string;
  /** Spawn → first /ready 200, ms. */
  readonly readyMs: number;
  /** performance.now() at spawn. */
  readonly spawnedAt: number;
  /** Resident set size now, bytes. */
  rssBytes(): Promise<number>;
  /** SIGTERM, wait, SIGKILL if needed; removes the temp dir. */
  stop(): Promise<void>;
}

export interface Target extends RunningTarget {
  readonly kind: TargetKind;
}

/** How to start one server process and tell when it is ready. */
export interface LaunchSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  port: number;
  token: string;
  /** GET this path until it answers 200. */
  readyPath: string;
  /** Pause between polls of it, ms (default 2: the resolution of the ready figure). */
  readyPollMs?: number;
  startTimeoutMs: number;
  /**
   * Start it as the leader of its own process group and kill the whole group
   * if it outlives the grace period (a peer that spawns helper processes).
   */
  processGroup?: boolean;
  /** Runs after the process is gone (removes its temp dir). */
  afterStop?: () => Promise<void>;
}

/** Config of the Pincer target: defaults but for the per-connection request rate. */
const BENCH_CONFIG = { gateway: { maxRequestsPerSecond: 1_000_000 } };

/** Every target started and not yet stopped, so a failing run can still clean up. */
const live = new Set<RunningTarget>();

/** Spawn a target and resolve once GET /ready answers 200. */
export async function startTarget(kind: TargetKind, options: TargetOptions = {}): Promise<Target> {
  const port = await freePort();
  const ownStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), `pincer-bench-${kind}-`)));
  const token = randomBytes(24).toString('hex');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: stateDir,
    PINCER_STATE_DIR: stateDir,
    PINCER_HOST: '127.0.0.1',
    PINCER_PORT: String(port),
    PINCER_TOKEN: token,
    PINCER_LOG_LEVEL: 'warn',
  };
  if (kind === 'pincer' && options.modelUrl !== undefined) {
    Object.assign(env, { PINCER_PROVIDER: 'openai', PINCER_MODEL: 'fake-model', PINCER_BASE_URL: options.modelUrl, PINCER_API_KEY: 'bench-key' });
  }
  // The scenarios send tens of thousands of requests per connection on purpose; lift the flood guard that would close them.
  if (kind === 'pincer') await writeFile(join(stateDir, 'config.json'), JSON.stringify({ ...BENCH_CONFIG, ...options.config }));
  const entry = kind === 'pincer' ? CLI_ENTRY : FLOOR_ENTRY;
  const nodeFlags = kind === 'pincer' ? startScriptNodeFlags() : [];
  const args = [...nodeFlags, ...(FROM_SOURCE ? ['--import', import.meta.resolve('tsx')] : []), entry, ...(kind === 'pincer' ? ['gateway'] : [])];
  const running = await launchTarget({
    name: kind,
    command: process.execPath,
    args,
    env,
    cwd: stateDir,
    port,
    token,
    readyPath: '/ready',
    startTimeoutMs: options.startTimeoutMs ?? START_TIMEOUT_MS,
    afterStop: ownStateDir ? () => rm(stateDir, { recursive: true, force: true }) : undefined,
  });
  return Object.assign(running, { kind });
}

/** Spawn a server process and resolve once GET `readyPath` answers 200; on failure it is stopped and the error carries its stderr. */
export async function launchTarget(spec: LaunchSpec): Promise<RunningTarget> {
  const spawnedAt = performance.now();
  const child = spawn(spec.command, spec.args, { env: spec.env, cwd: spec.cwd, stdio: ['ignore', 'ignore', 'pipe'], detached: spec.processGroup === true });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    // Keep the tail: the reason a start failed is written last.
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const cleanup = async (): Promise<void> => {
    await stopChild(child, exited, spec.processGroup === true);
    await spec.afterStop?.();
  };
  let readyMs: number;
  try {
    readyMs = (await pollReady(spec, child, () => stderr)) - spawnedAt;
  } catch (error) {
    await cleanup();
    throw error;
  }
  const target: RunningTarget = {
    name: spec.name,
    pid: child.pid ?? -1,
    port: spec.port,
    wsUrl: `ws://127.0.0.1:${spec.port}/`,
    token: spec.token,
    readyMs,
    spawnedAt,
    rssBytes: () => readRssBytes(child.pid ?? -1),
    async stop() {
      live.delete(target);
      await cleanup();
    },
  };
  live.add(target);
  return target;
}

/** Stop every target still running (for error paths). */
export async function stopAllTargets(): Promise<void> {
  await Promise.all([...live].map((target) => target.stop()));
}

/** Resident set size of a process, bytes (Linux /proc). */
export async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Resident set size of a process and every process below it, bytes (a peer runs helper processes). */
export async function readTreeRssBytes(pid: number): Promise<number> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command in field 2 may hold spaces, so split after its ')'.
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we listed them.
    }
  }
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, parent] of parents) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const member of tree) {
    try {
      total += await readRssBytes(member);
    } catch (error) {
      // A helper that exited between the listing and the read holds no memory; the target itself must be there.
      if (member === pid) throw error;
    }
  }
  return total;
}

/** A port that was free a moment ago (bind 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves with performance.now() of the first 200 from the spec's ready path. */
async function pollReady(spec: LaunchSpec, child: ChildProcess, stderr: () => string): Promise<number> {
  const deadline = performance.now() + spec.startTimeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${spec.name} exited (${child.exitCode ?? child.signalCode}) before ${spec.readyPath} answered 200: ${stderr().trim()}`);
    }
    const status = await getStatus(spec.port, spec.readyPath);
    if (status === 200) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, spec.readyPollMs ?? READY_POLL_MS));
  }
  throw new Error(`${spec.name} on port ${spec.port} not ready (${spec.readyPath}) within ${spec.startTimeoutMs} ms: ${stderr().trim()}`);
}

/** HTTP status of GET `path`, or 0 when nothing answers. */
function getStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: POLL_REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>, group: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    if (group) killGroup(child, 'SIGKILL');
    return;
  }
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, STOP_GRACE_MS);
  });
  await Promise.race([exited, grace]);
  clearTimeout(timer);
  await exited;
  // Helpers the leader left behind go with it.
  if (group) killGroup(child, 'SIGKILL');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already empty.
  }
}
