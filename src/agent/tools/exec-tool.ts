/**
 * The exec tool: run one shell command in the workspace with a timeout and an
 * output cap, off unless tools.exec.enabled is set. Every process the command
 * starts ends with its run (exec-containment.ts: a bwrap sandbox where
 * possible, else its process group), and it sees only allow-listed
 * environment variables (exec-env.ts).
 */

import { spawn } from 'node:child_process';
import * as v from 'valibot';

import { argumentsSchema, parseArguments } from './agent-tool.js';
import type { AgentTool } from './agent-tool.js';
import { endRun, newRunMarker, RUN_MARKER_VAR, trackRun, wrapCommand, type ExecContainment } from './exec-containment.js';
import { buildExecEnv } from './exec-env.js';
import type { Workspace } from './workspace-path.js';
import type { ToolOutcome } from '../tool-types.js';

/** Longest command accepted (chars). */
const MAX_COMMAND_CHARS = 16_384;
/**
 * How long output is still read after the command exits. A process that left
 * the group (setsid) may hold the pipes open; it must not hold the result (ms).
 */
const EXIT_DRAIN_MS = 1_000;

export interface ExecToolOptions {
  /** The command is killed after this long (ms). */
  timeoutMs: number;
  /** Output (stdout and stderr together) kept at most; the rest is counted and dropped (bytes). */
  maxOutputBytes: number;
  /** Shell to run `-c <command>` with (default /bin/sh). */
  shell?: string;
  /** Environment to take the allow-listed variables from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Names passed on besides the base allow-list (`tools.exec.env`; `NAME*` matches a prefix). */
  envNames?: readonly string[];
  /** How the command is contained (default: its process group only). */
  containment?: ExecContainment;
  /** The gateway's own directories and files, hidden inside a sandbox. */
  hiddenPaths?: readonly string[];
  /** Let a sandboxed command use the network (default false). */
  network?: boolean;
}

const execSchema = argumentsSchema({
  command: v.pipe(
    v.string('expected a shell command string'),
    v.check((value) => value.trim() !== '', 'must not be empty'),
    v.maxLength(MAX_COMMAND_CHARS, `must be at most ${MAX_COMMAND_CHARS} characters`),
  ),
});

/** The exec tool on one workspace. */
export function createExecTool(workspace: Workspace, options: ExecToolOptions): AgentTool {
  const env = buildExecEnv(options.env ?? process.env, options.envNames);
  const shell = options.shell ?? '/bin/sh';
  const containment = options.containment ?? { kind: 'process-group' };
  return {
    spec: {
      name: 'exec',
      description:
        `Run a shell command (${shell} -c) in the workspace directory and return its combined stdout and stderr ` +
        `and exit code. Killed after ${formatMs(options.timeoutMs)}; output beyond ${options.maxOutputBytes} bytes is dropped. ` +
        'No input is given on stdin.',
      parameters: {
        type: 'object',
        properties: { command: { type: 'string', description: 'The shell command line' } },
        required: ['command'],
        additionalProperties: false,
      },
    },
    execute: async (args, signal) => {
      const { command } = parseArguments(execSchema, args);
      const cwd = await workspace.realRoot();
      const wrapped = wrapCommand(containment.kind, shell, command, {
        workspace: cwd,
        hidden: options.hiddenPaths ?? [],
        network: options.network ?? false,
      });
      const sweep = containment.kind === 'process-group';
      return runCommand({ ...wrapped, cwd, env, sweep, timeoutMs: options.timeoutMs, maxOutputBytes: options.maxOutputBytes, signal });
    },
  };
}

interface RunParams {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Tag the run's processes and hunt down the ones that left its group (no sandbox). */
  sweep: boolean;
  timeoutMs: number;
  maxOutputBytes: number;
  signal: AbortSignal;
}

function runCommand(params: RunParams): Promise<ToolOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let total = 0;
    let stopped: 'timeout' | 'aborted' | undefined;
    const marker = newRunMarker();
    // Own process group, so a timeout also kills what the shell started.
    const child = spawn(params.file, params.args, {
      cwd: params.cwd,
      env: params.sweep ? { ...params.env, [RUN_MARKER_VAR]: marker } : params.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid !== undefined) trackRun(child.pid, marker);
    const collect = (chunk: Buffer): void => {
      total += chunk.length;
      if (kept >= params.maxOutputBytes) return;
      const part = chunk.subarray(0, params.maxOutputBytes - kept);
      chunks.push(part);
      kept += part.length;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const kill = (reason: 'timeout' | 'aborted'): void => {
      stopped ??= reason;
      endRun(child.pid, marker, params.sweep);
    };
    const timer = setTimeout(() => kill('timeout'), params.timeoutMs);
    const onAbort = (): void => kill('aborted');
    if (params.signal.aborted) onAbort();
    else params.signal.addEventListener('abort', onAbort, { once: true });
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Background processes may hold the pipes open; they belong to the run, so end them too.
      endRun(child.pid, marker, params.sweep);
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, EXIT_DRAIN_MS);
    });
    let finished = false;
    const finish = (spawnError?: Error): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      params.signal.removeEventListener('abort', onAbort);
      const output = Buffer.concat(chunks).toString('utf8');
      const notes: string[] = [];
      if (total > kept) notes.push(`[output truncated: ${total} bytes, showing the first ${kept}]`);
      let isError = true;
      if (spawnError !== undefined) notes.push(`[could not start the command: ${spawnError.message}]`);
      else if (stopped === 'timeout') notes.push(`[timed out after ${formatMs(params.timeoutMs)}; the command was killed]`);
      else if (stopped === 'aborted') notes.push('[the run was stopped; the command was killed]');
      else if (exit?.signal != null) notes.push(`[killed by signal ${exit.signal}]`);
      else {
        const code = exit?.code ?? -1;
        isError = code !== 0;
        notes.push(`[exit code ${code}]`);
      }
      const text = output === '' ? notes.join('\n') : `${output}${output.endsWith('\n') ? '' : '\n'}${notes.join('\n')}`;
      resolve({ content: [{ type: 'text', text }], isError });
    };
    child.on('error', finish);
    child.on('close', () => finish());
  });
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
