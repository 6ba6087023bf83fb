/**
 * An MCP client transport over a child's stdin/stdout, like the SDK's
 * StdioClientTransport but built so no server outlives the gateway: the child
 * gets its own process group (closing kills everything it started, e.g. the
 * node process behind `npx`), on Linux the parent-death signal (setpriv) so
 * even a killed gateway takes it along, and an exact environment instead of
 * the SDK's inherited one. Its stderr is kept (last lines) for error messages.
 */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** util-linux's setpriv sets PR_SET_PDEATHSIG and then execs the server (Debian: always installed). */
const SETPRIV_PATH = '/usr/bin/setpriv';
/** After stdin closes, the server may take this long to exit before SIGTERM, then as long again before SIGKILL (ms). */
export const STDIO_CLOSE_GRACE_MS = 1_000;
/** One JSON-RPC line may be at most this long (bytes); a longer one is a protocol error. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Lines of stderr kept for error messages. */
const STDERR_TAIL_LINES = 10;
/** Longest stderr line kept (chars). */
const MAX_STDERR_LINE_CHARS = 400;

export interface StdioServerSpawn {
  command: string;
  args: readonly string[];
  /** The complete environment of the child. */
  env: Record<string, string>;
  cwd?: string;
  /** Parses one JSON-RPC line (the SDK's schema check, injected so this file loads no SDK code). */
  parseMessage(line: string): JSONRPCMessage;
  /** Each stderr line, as it arrives. */
  onStderrLine?(line: string): void;
}

/** Every live child, so a gateway that exits without draining still kills them (see killAllStdioServers). */
const liveChildren = new Set<ChildProcess>();

export class ChildStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #spawn: StdioServerSpawn;
  readonly #stderrTail: string[] = [];
  #child: ChildProcess | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #stderrPartial = '';
  #closed = false;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(spawnParams: StdioServerSpawn) {
    this.#spawn = spawnParams;
  }

  /** PID of the server (or of setpriv, which becomes the server by exec); undefined before start. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The last lines the server wrote to stderr, oldest first. */
  get stderrTail(): readonly string[] {
    return this.#stderrTail;
  }

  /** How the child ended, once it has. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.#exit;
  }

  start(): Promise<void> {
    if (this.#child !== undefined) return Promise.reject(new Error('transport already started'));
    const { command, args, env, cwd } = this.#spawn;
    const [file, argv] = useSetpriv() ? [SETPRIV_PATH, ['--pdeathsig', 'SIGKILL', '--', command, ...args]] : [command, [...args]];
    return new Promise((resolve, reject) => {
      const child = spawn(file, argv, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      this.#child = child;
      child.once('spawn', () => {
        liveChildren.add(child);
        resolve();
      });
      child.once('error', (error) => {
        reject(describeSpawnError(error, command, cwd));
        this.#finish();
      });
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        liveChildren.delete(child);
        // Whatever the server started goes with it.
        killGroup(child.pid, 'SIGKILL');
        this.#finish();
      });
      child.stdin?.on('error', (error) => this.onerror?.(error));
      child.stdout?.on('data', (chunk: Buffer) => this.#read(chunk));
      child.stdout?.on('error', (error) => this.onerror?.(error));
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => this.#readStderr(text));
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (this.#closed || stdin == null || stdin.destroyed) return Promise.reject(new Error('the server process is not running'));
    return new Promise((resolve, reject) => {
      stdin.write(`${JSON.stringify(message)}\n`, (error) => (error == null ? resolve() : reject(error)));
    });
  }

  /** Close stdin, then SIGTERM and SIGKILL the process group if it lingers. Resolves once the child is gone. */
  async close(): Promise<void> {
    const child = this.#child;
    if (child === undefined || this.#exit !== undefined || child.pid === undefined) {
      this.#finish();
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    if (await settlesWithin(exited, STDIO_CLOSE_GRACE_MS)) return;
    killGroup(child.pid, 'SIGTERM');
    if (await settlesWithin(exited, STDIO_CLOSE_GRACE_MS)) return;
    killGroup(child.pid, 'SIGKILL');
    await exited;
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (let newline = this.#buffer.indexOf(10); newline !== -1; newline = this.#buffer.indexOf(10)) {
      const line = this.#buffer.toString('utf8', 0, newline).replace(/\r$/, '');
      this.#buffer = this.#buffer.subarray(newline + 1);
      if (line.trim() === '') continue;
      let message: JSONRPCMessage;
      try {
        message = this.#spawn.parseMessage(line);
      } catch (error) {
        this.onerror?.(new Error(`the server wrote a line that is not a JSON-RPC message: ${line.slice(0, 200)}`, { cause: error }));
        continue;
      }
      this.onmessage?.(message);
    }
    if (this.#buffer.length > MAX_LINE_BYTES) {
      this.#buffer = Buffer.alloc(0);
      this.onerror?.(new Error(`the server wrote a line longer than ${MAX_LINE_BYTES} bytes`));
      void this.close();
    }
  }

  #readStderr(text: string): void {
    const lines = (this.#stderrPartial + text).split('\n');
    this.#stderrPartial = (lines.pop() ?? '').slice(-MAX_STDERR_LINE_CHARS);
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '').slice(0, MAX_STDERR_LINE_CHARS);
      if (line.trim() === '') continue;
      this.#stderrTail.push(line);
      if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
      this.#spawn.onStderrLine?.(line);
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}

/**
 * SIGKILL every server process group still running. For the process's
 * 'exit' event, where nothing asynchronous can run any more.
 */
export function killAllStdioServers(): number {
  let killed = 0;
  for (const child of liveChildren) {
    killGroup(child.pid, 'SIGKILL');
    killed++;
  }
  liveChildren.clear();
  return killed;
}

/** spawn's ENOENT names the file it ran (maybe setpriv) and not what was missing: say which. */
function describeSpawnError(error: Error, command: string, cwd: string | undefined): Error {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error;
  if (cwd !== undefined && !existsSync(cwd)) return new Error(`working directory ${cwd} does not exist`, { cause: error });
  return new Error(`command not found: ${command}`, { cause: error });
}

let setprivAvailable: boolean | undefined;
function useSetpriv(): boolean {
  setprivAvailable ??= process.platform === 'linux' && existsSync(SETPRIV_PATH);
  return setprivAvailable;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
