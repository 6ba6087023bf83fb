import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliProcess } from '../helpers/spawn-cli.js';
import { hermeticEnv, httpGet, makeTempHome, runCli, spawnCli, waitForListening, waitForReady } from '../helpers/spawn-cli.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';

const homes: string[] = [];
const children: CliProcess[] = [];

async function freshHome(): Promise<string> {
  const home = await makeTempHome();
  homes.push(home);
  return home;
}

function startGatewayCli(args: string[], env: Record<string, string>): CliProcess {
  const cli = spawnCli(['gateway', '--port', '0', ...args], env);
  children.push(cli);
  return cli;
}

after(async () => {
  for (const child of children) child.kill();
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

describe('pincer gateway (first run)', () => {
  let home: string;
  let cli: CliProcess;
  let url: string;

  before(async () => {
    home = await freshHome();
    cli = startGatewayCli([], hermeticEnv(home));
    ({ url } = await waitForListening(cli));
    await waitForReady(url);
  });

  it('prints one line with the token file, the #token= URL and CLAWDBOT_GATEWAY_TOKEN', async () => {
    const match = await cli.waitForOutput(/^Pincer: .*$/m);
    const line = match[0];
    const tokenPath = join(home, '.pincer', 'token');
    const token = (await readFile(tokenPath, 'utf8')).trim();
    assert.ok(line.includes(tokenPath), line);
    assert.ok(line.includes(`${url}/#token=${token}`), line);
    assert.ok(line.includes(`CLAWDBOT_GATEWAY_TOKEN=${token}`), line);
    assert.equal(cli.stdout().trim().split('\n').length, 1, 'exactly one line on stdout');
  });

  it('stores a >=128-bit token with mode 0600 in a 0700 state dir', async () => {
    const stateDir = join(home, '.pincer');
    const token = (await readFile(join(stateDir, 'token'), 'utf8')).trim();
    assert.match(token, /^[A-Za-z0-9_-]{22,}$/);
    assert.ok(Buffer.from(token, 'base64url').length >= 16);
    assert.equal((await stat(join(stateDir, 'token'))).mode & 0o777, 0o600);
    assert.equal((await stat(stateDir)).mode & 0o777, 0o700);
  });

  it('never writes the token into the logs', async () => {
    const token = (await readFile(join(home, '.pincer', 'token'), 'utf8')).trim();
    assert.ok(!cli.stderr().includes(token));
  });

  it('answers pincer status with a one-line ready summary', async () => {
    const port = new URL(url).port;
    const result = await runCli(['status', '--port', port], hermeticEnv(home));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ready: gateway at http:\/\/127\.0\.0\.1:\d+ is up \d+/);
    assert.equal(result.stdout.trim().split('\n').length, 1);
  });

  it('exits 0 on SIGTERM well within the drain budget', async () => {
    const sent = Date.now();
    cli.child.kill('SIGTERM');
    const result = await cli.waitForExit(15_000);
    const elapsed = Date.now() - sent;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(elapsed < 10_000, `exit took ${elapsed} ms`);
    assert.match(result.stderr, /"msg":"drained"/);
  });

  it('prints the start line without the token on the second run', async () => {
    const second = startGatewayCli([], hermeticEnv(home));
    const { url: secondUrl } = await waitForListening(second);
    await waitForReady(secondUrl);
    second.child.kill('SIGINT');
    const result = await second.waitForExit(15_000);
    assert.equal(result.code, 0);
    const token = (await readFile(join(home, '.pincer', 'token'), 'utf8')).trim();
    assert.ok(!result.stdout.includes(token), 'the token is shown on the first run only');
    assert.equal(result.stdout.trim().split('\n').length, 1);
    assert.match(result.stdout, new RegExp(`^Pincer: \\d+\\.\\d+\\.\\d+\\S* listening on ${secondUrl} · web chat ${secondUrl}/ · token in ${join(home, '.pincer', 'token')} \\(print it with: pincer token\\) · no model configured`));
  });
});

describe('pincer gateway --no-websocket', () => {
  it('serves /health and /ready but refuses upgrades without a 101', async () => {
    const home = await freshHome();
    const cli = startGatewayCli(['--no-websocket', '--token', 'cli-test-token'], hermeticEnv(home));
    const { port, url } = await waitForListening(cli);
    await waitForReady(url);
    assert.equal((await httpGet(`${url}/health`)).status, 200);
    assert.equal((await rawUpgrade(port)).status, 404);
    assert.doesNotMatch(cli.stdout(), /cli-test-token|generated a gateway token/, 'no first-run token line with a configured token');
    cli.child.kill('SIGTERM');
    assert.equal((await cli.waitForExit(15_000)).code, 0);
  });

  it('accepts --enable-websocket and keeps upgrades going to the channel', async () => {
    const home = await freshHome();
    const cli = startGatewayCli(['--enable-websocket', '--token', 'cli-test-token'], hermeticEnv(home));
    const { port, url } = await waitForListening(cli);
    await waitForReady(url);
    const upgrade = await rawUpgrade(port);
    upgrade.socket?.destroy();
    assert.equal(upgrade.status, 101);
    cli.child.kill('SIGTERM');
    assert.equal((await cli.waitForExit(15_000)).code, 0);
  });
});
