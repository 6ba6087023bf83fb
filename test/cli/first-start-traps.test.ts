import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliProcess } from '../helpers/spawn-cli.js';
import { hermeticEnv, makeTempHome, runCli, spawnCli, waitForListening, waitForReady } from '../helpers/spawn-cli.js';

const EXIT_CONFIG = 78;
const homes: string[] = [];
const children: CliProcess[] = [];

async function freshHome(configText?: string): Promise<string> {
  const home = await makeTempHome();
  homes.push(home);
  if (configText !== undefined) {
    await mkdir(join(home, '.pincer'), { recursive: true, mode: 0o700 });
    await writeFile(join(home, '.pincer', 'config.json'), configText, { mode: 0o600 });
  }
  return home;
}

function startGateway(env: Record<string, string>, args: string[] = []): CliProcess {
  const cli = spawnCli(['gateway', '--port', '0', ...args], env);
  children.push(cli);
  return cli;
}

after(async () => {
  for (const child of children) child.kill();
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

describe('one gateway per state directory', () => {
  it('refuses a second gateway with exit 1, naming the PID of the first', async () => {
    const home = await freshHome();
    const first = startGateway(hermeticEnv(home));
    const { url } = await waitForListening(first);
    await waitForReady(url);
    const lock = JSON.parse(await readFile(join(home, '.pincer', 'gateway.lock'), 'utf8')) as { pid: number };
    assert.equal(lock.pid, first.child.pid);

    const second = await runCli(['gateway', '--port', '0'], hermeticEnv(home));
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`^pincer: another Pincer gateway \\(PID ${first.child.pid}\\) is already using this state directory`));
    assert.equal(second.stderr.trim().split('\n').length, 1);
    assert.equal((await waitForReady(url)) === undefined, true, 'the first gateway still serves');

    first.child.kill('SIGTERM');
    assert.equal((await first.waitForExit()).code, 0);
    await assert.rejects(readFile(join(home, '.pincer', 'gateway.lock')), /ENOENT/, 'a clean stop removes the lock');
  });

  it('takes over the lock a killed gateway left behind', async () => {
    const home = await freshHome();
    const crashed = startGateway(hermeticEnv(home));
    await waitForListening(crashed);
    crashed.child.kill('SIGKILL');
    await crashed.waitForExit();
    const stale = JSON.parse(await readFile(join(home, '.pincer', 'gateway.lock'), 'utf8')) as { pid: number };
    assert.equal(stale.pid, crashed.child.pid, 'SIGKILL leaves the lock file behind');

    const next = startGateway(hermeticEnv(home));
    const { url } = await waitForListening(next);
    await waitForReady(url);
    const lock = JSON.parse(await readFile(join(home, '.pincer', 'gateway.lock'), 'utf8')) as { pid: number };
    assert.equal(lock.pid, next.child.pid);
    next.child.kill('SIGTERM');
    await next.waitForExit();
  });
});

describe('config.json', () => {
  for (const [name, text] of [['an empty', ''], ['a blank', ' \n\t\n']] as const) {
    it(`is a config error (exit 78) when it is ${name} file`, async () => {
      const home = await freshHome(text);
      const result = await runCli(['gateway', '--port', '0'], hermeticEnv(home));
      assert.equal(result.code, EXIT_CONFIG, result.stderr);
      assert.equal(result.stderr, `pincer: config file ${join(home, '.pincer', 'config.json')} is empty: write {} for the defaults, or remove the file\n`);
      const doctor = await runCli(['doctor'], hermeticEnv(home));
      assert.equal(doctor.code, EXIT_CONFIG, 'doctor refuses the same file');
    });
  }

  it('starts on defaults when it holds {}', async () => {
    const home = await freshHome('{}\n');
    const cli = startGateway(hermeticEnv(home));
    await waitForListening(cli);
    cli.child.kill('SIGTERM');
    assert.equal((await cli.waitForExit()).code, 0);
  });
});

describe('a provider without an API key', () => {
  const providerEnv = { PINCER_PROVIDER: 'openai', PINCER_MODEL: 'gpt-4o-mini' };
  const warning = /provider openai \(the OpenAI API\) has no API key: set PINCER_API_KEY or OPENAI_API_KEY/;

  it('is reported at start, by status and by doctor', async () => {
    const home = await freshHome();
    const env = hermeticEnv(home, providerEnv);
    const cli = startGateway(env);
    const { url } = await waitForListening(cli);
    await waitForReady(url);
    assert.match(cli.stderr(), /"level":"warn"[^\n]*provider openai \(the OpenAI API\) has no API key/);
    assert.match(cli.stdout(), warning, 'the start line says so too');

    const status = await runCli(['status', '--port', new URL(url).port], env);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /^ready: .*; warning: provider openai \(the OpenAI API\) has no API key/);
    assert.equal(status.stdout.trim().split('\n').length, 1);

    const doctor = await runCli(['doctor', '--json'], env);
    const report = JSON.parse(doctor.stdout) as { findings: { id: string; severity: string; message: string }[] };
    const finding = report.findings.find((f) => f.id === 'provider.api-key-missing');
    assert.equal(finding?.severity, 'warn');
    assert.match(finding?.message ?? '', warning);
    cli.child.kill('SIGTERM');
    await cli.waitForExit();
  });

  it('is not reported for a key or a local server such as Ollama', async () => {
    const home = await freshHome();
    const extras: Record<string, string>[] = [{ OPENAI_API_KEY: 'sk-test' }, { PINCER_BASE_URL: 'http://127.0.0.1:11434/v1' }, { PINCER_BASE_URL: 'http://ollama:11434/v1' }];
    for (const extra of extras) {
      const doctor = await runCli(['doctor', '--json'], hermeticEnv(home, { ...providerEnv, ...extra }));
      const report = JSON.parse(doctor.stdout) as { findings: { id: string }[] };
      assert.ok(!report.findings.some((f) => f.id === 'provider.api-key-missing'), JSON.stringify(extra));
    }
  });
});
