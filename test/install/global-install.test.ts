import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { httpGet, waitForReady } from '../helpers/spawn-cli.js';

const run = promisify(execFile);
/** The repository root (dist/test/install → ../../..). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const STEP_TIMEOUT_MS = 60_000;

/**
 * Packs the built repository the way `npm pack` ships it, installs the tarball
 * globally into a temp prefix with no registry (--offline), and runs the
 * installed `pincer` from an unrelated directory, as README recipes do.
 */
describe('pincer installed from a packed tarball', () => {
  let work: string;
  let bin: string;
  let home: string;
  let cwd: string;
  let env: Record<string, string>;
  let model: FakeModelServer;
  const children: ChildProcess[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pincer-install-'));
    home = join(work, 'home');
    cwd = join(work, 'elsewhere');
    const prefix = join(work, 'prefix');
    const npmEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' };
    // dist/ is already built by `npm test`; --ignore-scripts keeps `prepare` from building it again.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: REPO_ROOT, env: npmEnv, timeout: STEP_TIMEOUT_MS });
    const tarball = join(work, packed.stdout.trim().split('\n').at(-1) ?? '');
    await run('npm', ['install', '-g', '--offline', '--prefix', prefix, tarball], { cwd: work, env: npmEnv, timeout: STEP_TIMEOUT_MS });
    await run('mkdir', ['-p', home, cwd]);
    bin = join(prefix, 'bin', 'pincer');
    env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home };
    model = await startFakeModelServer({ defaultReply: { text: ['installed ', 'and ', 'working'] } });
  });

  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await model?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('declares no runtime dependencies: the bundle carries them, so installing needs no registry', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    assert.deepEqual(
      Object.keys(pkg.dependencies ?? {}),
      [],
      'put runtime packages in devDependencies; scripts/bundle-cli.mjs bundles them (lazy ones into dist/vendor/)',
    );
  });

  it('prints its version and the token from any directory', async () => {
    const version = await run('pincer', ['--version'], { cwd, env });
    const { version: expected } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), expected);
    const token = await run('pincer', ['token'], { cwd, env });
    assert.equal(token.stdout.trim(), (await readFile(join(home, '.pincer', 'token'), 'utf8')).trim());
    assert.equal((await readdir(cwd)).length, 0, 'nothing written to the working directory');
  });

  it('starts the gateway, serves the web chat and answers a model call through the bundled SDK', async () => {
    const gateway = spawn(bin, ['gateway', '--port', '0'], {
      cwd,
      env: { ...env, PINCER_PROVIDER: 'openai', PINCER_MODEL: 'fake-model', PINCER_BASE_URL: model.url, PINCER_API_KEY: 'sk-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(gateway);
    let output = '';
    gateway.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    gateway.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const port = await waitForPort(() => output, STEP_TIMEOUT_MS);
    const url = `http://127.0.0.1:${port}`;
    await waitForReady(url);

    const page = await httpGet(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<script[^>]+\/assets\/app-[0-9a-f]{10}\.js/);

    const status = await run('pincer', ['status', '--port', String(port)], { cwd, env });
    assert.match(status.stdout, /^ready: /);
    const doctor = await run('pincer', ['doctor'], { cwd, env });
    assert.match(doctor.stdout, /./);

    const token = (await readFile(join(home, '.pincer', 'token'), 'utf8')).trim();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'pincer', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = (await res.json()) as { choices?: { message?: { content?: string } }[] };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.choices?.[0]?.message?.content, 'installed and working');

    gateway.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => gateway.on('close', (exitCode) => resolve(exitCode)));
    assert.equal(code, 0, output);
  });
});

async function waitForPort(output: () => string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = /"msg":"gateway listening"[^\n]*"port":(\d+)/.exec(output());
    if (match !== null) return Number(match[1]);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the installed gateway did not listen within ${timeoutMs} ms:\n${output()}`);
}
