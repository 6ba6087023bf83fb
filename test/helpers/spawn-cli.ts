/**
 * Run the `pincer` CLI as a child process, from source under tsx when this
 * file is TypeScript, else the bundled dist/pincer.mjs that users run. Children get a
 * hermetic environment (temp HOME, no PINCER_* from the developer's shell).
 */

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** From source, the TypeScript entry; when built, the bundle that `bin` and `npm start` run. */
const ENTRY = fileURLToPath(new URL(FROM_SOURCE ? '../../src/cli/main.ts' : '../../pincer.mjs', import.meta.url));
/** Repo root from source; dist/ when built (only used as the child's cwd). */
const CHILD_CWD = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_CLI_TIMEOUT_MS = 20_000;

/** node + args that start the CLI entry point. */
export function cliCommand(): { command: string; args: string[] } {
  const args = FROM_SOURCE ? ['--import', import.meta.resolve('tsx'), ENTRY] : [ENTRY];
  return { command: process.execPath, args };
}

/** A temp dir to use as HOME (and so ~/.pincer) for one child. */
export function makeTempHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'pincer-cli-'));
}

/** Only PATH and the given variables; HOME must be given so nothing touches the real ~/.pincer. */
export function hermeticEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when `pattern` matches stdout+stderr; rejects on exit or timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit; kills the child with SIGKILL on timeout and rejects. */
  waitForExit(timeoutMs?: number): Promise<CliResult>;
  /** SIGKILL if still running (for after hooks). */
  kill(): void;
}

/** Start the CLI with `args`. Env must come from hermeticEnv(). */
export function spawnCli(args: readonly string[], env: Record<string, string>): CliProcess {
  const { command, args: baseArgs } = cliCommand();
  const child = spawn(command, [...baseArgs, ...args], { env, cwd: CHILD_CWD, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exit: CliResult | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      exit = { code, signal, stdout, stderr };
      resolve(exit);
      notify();
    });
  });

  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForOutput(pattern, timeoutMs = DEFAULT_CLI_TIMEOUT_MS) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = (stdout + stderr).match(pattern);
          if (match !== null) {
            done();
            resolve(match);
          } else if (exit !== undefined) {
            done();
            reject(new Error(`CLI exited (${exit.code ?? exit.signal}) before printing ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async waitForExit(timeoutMs = DEFAULT_CLI_TIMEOUT_MS) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`CLI did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Run the CLI to completion. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = DEFAULT_CLI_TIMEOUT_MS,
): Promise<CliResult> {
  return spawnCli(args, env).waitForExit(timeoutMs);
}

/** Wait for the gateway's JSON "gateway listening" log line and return its port and URL. */
export async function waitForListening(cli: CliProcess, timeoutMs = DEFAULT_CLI_TIMEOUT_MS): Promise<{ port: number; url: string }> {
  const match = await cli.waitForOutput(/"msg":"gateway listening"[^\n]*"port":(\d+)/, timeoutMs);
  const port = Number(match[1]);
  return { port, url: `http://127.0.0.1:${port}` };
}

/** GET a path; resolves with status and text body. */
export function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** Poll GET <url>/ready until it answers 200. */
export async function waitForReady(url: string, timeoutMs = DEFAULT_CLI_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await httpGet(`${url}/ready`, 1_000);
      if (res.status === 200) return;
      last = `HTTP ${res.status} ${res.body}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url}/ready not 200 within ${timeoutMs} ms (last: ${last})`);
}
