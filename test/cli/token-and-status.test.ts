import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { StartedGateway } from '../helpers/start-gateway.js';
import { startGateway } from '../helpers/start-gateway.js';
import { hermeticEnv, makeTempHome, runCli } from '../helpers/spawn-cli.js';

const homes: string[] = [];
const gateways: StartedGateway[] = [];

async function freshHome(): Promise<string> {
  const home = await makeTempHome();
  homes.push(home);
  return home;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

after(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()));
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

describe('pincer token', () => {
  it('creates, prints and then reprints the same token', async () => {
    const home = await freshHome();
    const tokenPath = join(home, '.pincer', 'token');
    const first = await runCli(['token'], hermeticEnv(home));
    assert.equal(first.code, 0, first.stderr);
    const token = first.stdout.trim();
    assert.equal(token, (await readFile(tokenPath, 'utf8')).trim());
    assert.match(first.stderr, /generated a new token/);
    assert.equal((await stat(tokenPath)).mode & 0o777, 0o600);

    const second = await runCli(['token'], hermeticEnv(home));
    assert.equal(second.stdout.trim(), token);
    assert.equal(second.stderr, '');
  });

  it('--rotate replaces the token and a running gateway uses it on the next lookup', async () => {
    const home = await freshHome();
    const stateDir = join(home, 'state');
    const gateway = await startGateway({ token: null, stateDir });
    gateways.push(gateway);
    const before = gateway.pincer.getAuthSecret()?.secret;
    assert.equal(before, gateway.token);

    const result = await runCli(['token', '--rotate', '--state-dir', stateDir], hermeticEnv(home));
    assert.equal(result.code, 0, result.stderr);
    const rotated = result.stdout.trim();
    assert.notEqual(rotated, before);
    assert.equal((await readFile(join(stateDir, 'token'), 'utf8')).trim(), rotated);
    assert.equal((await stat(join(stateDir, 'token'))).mode & 0o777, 0o600);
    assert.deepEqual(gateway.pincer.getAuthSecret(), { mode: 'token', secret: rotated });
  });

  it('refuses when a token is configured elsewhere', async () => {
    const home = await freshHome();
    const result = await runCli(['token', '--rotate'], hermeticEnv(home, { PINCER_TOKEN: 'from-env' }));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^pincer: a token is configured/);
    assert.ok(!result.stderr.includes('from-env'));
  });
});

describe('pincer status', () => {
  it('says "not running" and exits 1 when nothing listens', async () => {
    const home = await freshHome();
    const port = await freePort();
    const result = await runCli(['status', '--port', String(port)], hermeticEnv(home));
    assert.equal(result.code, 1);
    assert.equal(result.stdout, `not running: nothing is listening at http://127.0.0.1:${port}\n`);
  });

  it('reports a draining gateway as not ready', async () => {
    const home = await freshHome();
    const gateway = await startGateway();
    gateways.push(gateway);
    let release: () => void = () => undefined;
    gateway.pincer.gateway.onDrain('hold', () => new Promise<void>((resolve) => (release = resolve)));
    const drained = gateway.pincer.drain('test');
    try {
      const result = await runCli(['status', '--port', String(gateway.port)], hermeticEnv(home));
      assert.equal(result.code, 1);
      assert.match(result.stdout, /^not ready: gateway at http:\/\/127\.0\.0\.1:\d+ reports draining/);
    } finally {
      release();
      await drained;
    }
  });

  it('reads host and port from the environment', async () => {
    const home = await freshHome();
    const gateway = await startGateway();
    gateways.push(gateway);
    const result = await runCli(['status'], hermeticEnv(home, { PINCER_PORT: String(gateway.port), PINCER_HOST: '127.0.0.1' }));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^ready: /);
  });
});
