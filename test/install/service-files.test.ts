/**
 * The systemd unit and the Dockerfile do what docs/running-as-a-service.md
 * says. systemd and Docker are not available to the tests, so each file is
 * read and its commands are run the way the service manager would run them:
 * the unit's ExecStart with its environment, stopped with its KillSignal
 * within TimeoutStopSec; the image's build steps, its file layout, its CMD
 * with its ENV, and its HEALTHCHECK against the result. With a working
 * `docker`, the image is also built and run for real.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { access, cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { httpGet, waitForReady } from '../helpers/spawn-cli.js';

const run = promisify(execFile);
/** The repository root (dist/test/install → ../../..). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const DEFAULT_DRAIN_S = 10;

const temps: string[] = [];
after(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

interface Started {
  url: string;
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
  output(): string;
}

/** Spawn a gateway command and wait for its JSON listening line. */
async function startCommand(command: string, args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  let port: number | undefined;
  while (port === undefined) {
    const match = /"msg":"gateway listening"[^\n]*"port":(\d+)/.exec(output);
    if (match !== null) port = Number(match[1]);
    else if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${command} ${args.join(' ')} did not start:\n${output}`);
    } else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop(signal) {
      const sent = Date.now();
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return { code, ms: Date.now() - sent };
    },
  };
}

/** `Key=value` lines of a unit's [Service] section (last one wins, lists kept in order). */
function readUnit(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const at = line.indexOf('=');
    const key = line.slice(0, at);
    out.set(key, [...(out.get(key) ?? []), line.slice(at + 1)]);
  }
  return out;
}

describe('deploy/pincer.service', () => {
  it('starts pincer gateway with its environment and stops cleanly on its KillSignal within TimeoutStopSec', async () => {
    const unit = readUnit(await readFile(join(ROOT, 'deploy', 'pincer.service'), 'utf8'));
    const execStart = unit.get('ExecStart')?.at(-1) ?? '';
    assert.equal(execStart, '/usr/bin/env pincer gateway');
    assert.equal(unit.get('Restart')?.at(-1), 'on-failure');
    const killSignal = (unit.get('KillSignal')?.at(-1) ?? 'SIGTERM') as NodeJS.Signals;
    const timeoutStopS = Number(unit.get('TimeoutStopSec')?.at(-1));
    assert.ok(timeoutStopS > DEFAULT_DRAIN_S, 'the stop timeout leaves room for the drain');

    // `pincer` on PATH, as `npm install -g` puts it.
    const work = await tempDir('pincer-systemd-');
    await mkdir(join(work, 'bin'));
    await symlink(join(ROOT, 'dist', 'pincer.mjs'), join(work, 'bin', 'pincer'));
    const env: Record<string, string> = { PATH: `${join(work, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: join(work, 'home') };
    for (const assignment of unit.get('Environment') ?? []) {
      const [key, value] = assignment.split('=', 2) as [string, string];
      env[key] = key === 'PINCER_STATE_DIR' ? join(work, 'state') : value;
    }
    assert.ok('PINCER_STATE_DIR' in env, 'the unit sets the state directory');
    env.PINCER_PORT = '0';

    const [command, ...args] = execStart.split(' ');
    const gateway = await startCommand(command, args, env);
    await waitForReady(gateway.url);
    assert.match(gateway.output(), /^Pincer: \S+ listening on /m);
    const { code, ms } = await gateway.stop(killSignal);
    assert.equal(code, 0, 'systemd counts exit 0 as a clean stop');
    assert.ok(ms < timeoutStopS * 1000, `stopped in ${ms} ms`);
  });

  it('passes systemd-analyze verify where systemd is installed', { skip: !hasCommand('systemd-analyze') && 'systemd-analyze not installed' }, async () => {
    await run('systemd-analyze', ['verify', join(ROOT, 'deploy', 'pincer.service')]);
  });
});

interface Dockerfile {
  stages: { name?: string; from: string; lines: string[] }[];
}

function readDockerfile(text: string): Dockerfile {
  const joined = text.replace(/\\\n\s*/g, ' ');
  const stages: Dockerfile['stages'] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from !== null) stages.push({ from: from[1], name: from[2], lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return { stages };
}

/** `KEY=value KEY2=value` of ENV lines. */
function readEnv(lines: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines.filter((l) => /^ENV\s/i.test(l))) {
    for (const match of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[match[1]] = match[2];
  }
  return env;
}

function jsonForm(line: string, instruction: string): string[] {
  const body = line.slice(instruction.length).trim().replace(/^(--\S+\s+)*CMD\s+/i, '');
  const parsed: unknown = JSON.parse(body);
  assert.ok(Array.isArray(parsed) && parsed.every((part) => typeof part === 'string'), `${instruction} uses the exec form`);
  return parsed as string[];
}

describe('Dockerfile', () => {
  it('builds with the repository\'s own scripts into the layout its runtime stage copies, and that layout serves /ready', async () => {
    const docker = readDockerfile(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
    assert.equal(docker.stages.length, 2);
    const [build, runtime] = docker.stages;
    assert.match(build.from, /^node:20\b/, 'builds on the oldest supported Node');
    assert.match(runtime.from, /^node:20\b/);

    // Build stage: every COPY source exists in the context, and its RUN steps work from a clean copy.
    const src = await tempDir('pincer-docker-src-');
    for (const line of build.lines.filter((l) => /^COPY\s/i.test(l))) {
      const parts = line.split(/\s+/).slice(1);
      for (const source of parts.slice(0, -1)) {
        await access(join(ROOT, source));
        await cp(join(ROOT, source), join(src, source), { recursive: true });
      }
    }
    await symlink(join(ROOT, 'node_modules'), join(src, 'node_modules'));
    for (const line of build.lines.filter((l) => /^RUN\s/i.test(l))) {
      const command = line.slice(4).trim();
      if (command.startsWith('npm ci')) continue; // node_modules is linked in; the registry is not reachable from tests.
      await run('/bin/sh', ['-c', command], { cwd: src, timeout: 120_000 });
    }

    // Runtime stage: assemble /app from the build output exactly as its COPY --from=build lines say.
    const app = await tempDir('pincer-docker-app-');
    const appPath = (path: string): string => join(app, path.replace(/^\/app\/?/, ''));
    for (const line of runtime.lines.filter((l) => /^COPY\s+--from=build\s/i.test(l))) {
      const [, , from, to] = line.split(/\s+/);
      const source = join(src, from.replace(/^\/src\/?/, ''));
      const target = to.startsWith('/') ? to : join('/app', to);
      await mkdir(dirname(appPath(target)), { recursive: true });
      await cp(source, appPath(target), { recursive: true });
    }

    const cmd = jsonForm(runtime.lines.find((l) => /^CMD\s/i.test(l)) ?? '', 'CMD');
    assert.deepEqual(cmd.slice(0, 3), ['node', '/app/dist/pincer.mjs', 'gateway']);
    const imageEnv = readEnv(runtime.lines);
    assert.equal(imageEnv.PINCER_HOST, '0.0.0.0', 'reachable through the published port');
    assert.ok(runtime.lines.some((l) => /^EXPOSE\s+18789$/.test(l)));
    assert.ok(runtime.lines.some((l) => /^USER\s+node$/.test(l)), 'not root');

    const state = await tempDir('pincer-docker-data-');
    const env = { ...imageEnv, PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: state, PINCER_STATE_DIR: state, PINCER_HOST: '127.0.0.1', PINCER_PORT: '0' };
    const args = [appPath(cmd[1]), ...cmd.slice(2)];

    // Without a token the image refuses 0.0.0.0 with the documented config error.
    const refused = spawnSync(process.execPath, args, { env: { ...env, PINCER_HOST: '0.0.0.0' }, encoding: 'utf8', timeout: START_TIMEOUT_MS });
    assert.equal(refused.status, 78, refused.stderr);
    assert.match(refused.stderr, /refusing to listen on 0\.0\.0\.0 without a configured secret/);

    const gateway = await startCommand(process.execPath, args, { ...env, PINCER_TOKEN: 'docker-test-token-0123456789abcdef' });
    try {
      await waitForReady(gateway.url);
      assert.equal((await httpGet(`${gateway.url}/`)).status, 200, 'the web chat is in the image');
      const health = jsonForm(runtime.lines.find((l) => /^HEALTHCHECK\s/i.test(l)) ?? '', 'HEALTHCHECK');
      const probe = health.map((part) => part.replace('http://127.0.0.1:18789', gateway.url));
      assert.equal(probe[0], 'node');
      const result = spawnSync(process.execPath, probe.slice(1), { encoding: 'utf8', timeout: 10_000 });
      assert.equal(result.status, 0, `HEALTHCHECK fails against a ready gateway: ${result.stderr}`);
    } finally {
      const stopSignal = (runtime.lines.find((l) => /^STOPSIGNAL\s/i.test(l))?.split(/\s+/)[1] ?? 'SIGTERM') as NodeJS.Signals;
      assert.equal((await gateway.stop(stopSignal)).code, 0);
    }
  });

  it('builds and passes /ready in Docker where a Docker engine answers', { skip: !dockerWorks() && 'no Docker engine (see docs/running-as-a-service.md for the manual check)' }, async () => {
    const tag = `pincer-test:${process.pid}`;
    await run('docker', ['build', '-t', tag, ROOT], { timeout: 600_000 });
    const { stdout } = await run('docker', ['run', '-d', '--rm', '-p', '127.0.0.1::18789', '-e', 'PINCER_TOKEN=docker-test-token-0123456789abcdef', tag]);
    const id = stdout.trim();
    try {
      const port = (await run('docker', ['port', id, '18789'])).stdout.trim().split(':').at(-1);
      await waitForReady(`http://127.0.0.1:${port}`, 60_000);
    } finally {
      await run('docker', ['stop', id]);
      await run('docker', ['rmi', tag]).catch(() => undefined);
    }
  });
});

function hasCommand(name: string): boolean {
  return spawnSync('/bin/sh', ['-c', `command -v ${name}`]).status === 0;
}

function dockerWorks(): boolean {
  return hasCommand('docker') && spawnSync('docker', ['info'], { timeout: 10_000 }).status === 0;
}

