import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error.js';
import { ListenError } from '../../src/gateway/gateway-server.js';
import { startPincer } from '../../src/main.js';
import type { StartedGateway } from '../helpers/start-gateway.js';
import { startGateway } from '../helpers/start-gateway.js';
import { httpGet } from '../helpers/spawn-cli.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';

const started: StartedGateway[] = [];
const dirs: string[] = [];

async function start(options: Parameters<typeof startGateway>[0] = {}): Promise<StartedGateway> {
  const gateway = await startGateway(options);
  started.push(gateway);
  return gateway;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pincer-start-'));
  dirs.push(dir);
  return dir;
}

after(async () => {
  await Promise.all(started.map((gateway) => gateway.close()));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('startPincer', () => {
  it('starts on 127.0.0.1 with port 0 and is ready at once', async () => {
    const gateway = await start({ token: 'explicit-test-token' });
    assert.match(gateway.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(gateway.port > 0);
    assert.equal(gateway.wsUrl, gateway.url.replace('http', 'ws'));
    assert.equal(gateway.token, 'explicit-test-token');
    assert.deepEqual(gateway.pincer.getAuthSecret(), { mode: 'token', secret: 'explicit-test-token' });
    assert.equal(gateway.pincer.generatedToken, undefined);
    assert.equal((await httpGet(`${gateway.url}/health`)).status, 200);
    assert.equal((await httpGet(`${gateway.url}/ready`)).status, 200);
    assert.ok(Object.isFrozen(gateway.pincer.config));
  });

  it('generates a token file on first run when no secret is given', async () => {
    const gateway = await start({ token: null });
    const generated = gateway.pincer.generatedToken;
    assert.ok(generated !== undefined);
    assert.equal(generated.path, join(gateway.stateDir, 'token'));
    assert.equal((await readFile(generated.path, 'utf8')).trim(), generated.token);
    assert.equal((await stat(generated.path)).mode & 0o777, 0o600);
    assert.equal((await stat(gateway.stateDir)).mode & 0o777, 0o700);
    assert.equal(gateway.token, generated.token);
    assert.equal(gateway.pincer.tokenFilePath, generated.path);
  });

  it('does not report a generated token on the second run', async () => {
    const stateDir = await tempDir();
    const first = await start({ token: null, stateDir });
    await first.close();
    const second = await start({ token: null, stateDir });
    assert.equal(second.pincer.generatedToken, undefined);
    assert.equal(second.token, first.token);
  });

  it('supports password auth', async () => {
    const gateway = await start({ password: 'pw-test' });
    assert.deepEqual(gateway.pincer.getAuthSecret(), { mode: 'password', secret: 'pw-test' });
    assert.equal(gateway.pincer.authMode, 'password');
  });

  it('refuses upgrades with an HTTP error when the WebSocket is disabled', async () => {
    const gateway = await start({ websocket: false });
    assert.equal((await rawUpgrade(gateway.port)).status, 404);
  });

  it('reports /ready 503 during a drain and closes after it', async () => {
    const gateway = await start();
    let release: () => void = () => undefined;
    let entered!: () => void;
    const inHook = new Promise<void>((resolve) => (entered = resolve));
    gateway.pincer.gateway.onDrain('test', () => {
      entered();
      return new Promise<void>((resolve) => (release = resolve));
    });
    const drained = gateway.pincer.drain('test');
    await inHook;
    assert.equal((await httpGet(`${gateway.url}/ready`)).status, 503);
    assert.equal((await httpGet(`${gateway.url}/health`)).status, 200);
    release();
    await drained;
    await assert.rejects(httpGet(`${gateway.url}/health`, 1_000));
  });

  it('refuses 0.0.0.0 without a configured secret and leaves nothing listening', async () => {
    const stateDir = await tempDir();
    await assert.rejects(
      startPincer({ env: {}, flags: { host: '0.0.0.0', port: 0, stateDir, logLevel: 'silent' } }),
      (error: unknown) => error instanceof ConfigError && error.exitCode === 78 && /0\.0\.0\.0/.test(error.message),
    );
  });

  it('rejects an empty token', async () => {
    const stateDir = await tempDir();
    await assert.rejects(
      startPincer({ env: {}, flags: { port: 0, stateDir, token: '', logLevel: 'silent' } }),
      (error: unknown) => error instanceof ConfigError && error.field === 'auth.token',
    );
  });

  it('fails with a ListenError when the port is taken', async () => {
    const gateway = await start();
    const stateDir = await tempDir();
    await assert.rejects(
      startPincer({ env: {}, flags: { port: gateway.port, stateDir, token: 't', logLevel: 'silent' } }),
      (error: unknown) => error instanceof ListenError && /already in use/.test(error.message),
    );
  });
});
