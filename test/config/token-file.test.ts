import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthSecretResolver, isLoopbackHost, prepareAuth } from '../../src/config/auth-secret.js';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfig } from '../../src/config/load-config.js';
import { ensureTokenFile, generateToken, rotateTokenFile } from '../../src/config/token-file.js';

let root: string;
let counter = 0;
const freshDir = (): string => join(root, `state-${counter++}`);
const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pincer-token-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('generateToken', () => {
  it('returns at least 128 random bits as base64url', () => {
    const tokens = new Set(Array.from({ length: 50 }, generateToken));
    assert.equal(tokens.size, 50);
    for (const token of tokens) {
      assert.match(token, /^[A-Za-z0-9_-]+$/);
      assert.ok(Buffer.from(token, 'base64url').length >= 16);
    }
  });
});

describe('ensureTokenFile', () => {
  it('creates the token with mode 0600 in a 0700 directory on first run', async () => {
    const stateDir = freshDir();
    const file = await ensureTokenFile(stateDir);
    assert.equal(file.created, true);
    assert.equal(file.path, join(stateDir, 'token'));
    assert.equal(await modeOf(stateDir), 0o700);
    assert.equal(await modeOf(file.path), 0o600);
    assert.equal((await readFile(file.path, 'utf8')).trim(), file.token);
    assert.deepEqual(await readdir(stateDir), ['token'], 'no temp files left behind');
  });

  it('returns the same token on later runs', async () => {
    const stateDir = freshDir();
    const first = await ensureTokenFile(stateDir);
    const second = await ensureTokenFile(stateDir);
    assert.equal(second.created, false);
    assert.equal(second.token, first.token);
  });

  it('agrees on one token when several starts race', async () => {
    const stateDir = freshDir();
    const files = await Promise.all(Array.from({ length: 8 }, () => ensureTokenFile(stateDir)));
    const tokens = new Set(files.map((file) => file.token));
    assert.equal(tokens.size, 1);
    assert.equal(files.filter((file) => file.created).length, 1);
    assert.equal((await readFile(join(stateDir, 'token'), 'utf8')).trim(), [...tokens][0]);
  });

  it('tightens a token file and state dir that others can read', async () => {
    const stateDir = freshDir();
    await mkdir(stateDir, { mode: 0o755 });
    await chmod(stateDir, 0o755);
    await writeFile(join(stateDir, 'token'), 'hand-written-token\n', { mode: 0o644 });
    await chmod(join(stateDir, 'token'), 0o644);
    const file = await ensureTokenFile(stateDir);
    assert.equal(file.token, 'hand-written-token');
    assert.equal(await modeOf(stateDir), 0o700);
    assert.equal(await modeOf(file.path), 0o600);
    assert.equal(file.warnings.length, 2);
  });

  it('refuses a blank token file', async () => {
    const stateDir = freshDir();
    await mkdir(stateDir, { mode: 0o700 });
    await writeFile(join(stateDir, 'token'), '  \n', { mode: 0o600 });
    await assert.rejects(ensureTokenFile(stateDir), (error: unknown) => error instanceof ConfigError && /empty/.test(error.message));
  });
});

describe('rotateTokenFile', () => {
  it('replaces the token and keeps mode 0600', async () => {
    const stateDir = freshDir();
    const first = await ensureTokenFile(stateDir);
    const rotated = await rotateTokenFile(stateDir);
    assert.notEqual(rotated.token, first.token);
    assert.equal((await readFile(first.path, 'utf8')).trim(), rotated.token);
    assert.equal(await modeOf(first.path), 0o600);
    assert.deepEqual(await readdir(stateDir), ['token']);
  });
});

describe('createAuthSecretResolver', () => {
  it('returns a configured secret unchanged', () => {
    const resolve = createAuthSecretResolver({ configured: { mode: 'password', secret: 'pw' } });
    assert.deepEqual(resolve(), { mode: 'password', secret: 'pw' });
  });

  it('sees a rotation on the very next call', async () => {
    const stateDir = freshDir();
    const file = await ensureTokenFile(stateDir);
    const resolve = createAuthSecretResolver({ tokenFilePath: file.path });
    assert.deepEqual(resolve(), { mode: 'token', secret: file.token });
    for (let i = 0; i < 5; i++) {
      const rotated = await rotateTokenFile(stateDir);
      assert.equal(resolve()?.secret, rotated.token, `rotation ${i}`);
    }
  });

  it('fails closed when the file disappears or is blank, and recovers', async () => {
    const stateDir = freshDir();
    const file = await ensureTokenFile(stateDir);
    const errors: unknown[] = [];
    const resolve = createAuthSecretResolver({ tokenFilePath: file.path, onError: (error) => errors.push(error) });
    await unlink(file.path);
    assert.equal(resolve(), undefined);
    await writeFile(file.path, '\n', { mode: 0o600 });
    assert.equal(resolve(), undefined);
    const rotated = await rotateTokenFile(stateDir);
    assert.equal(resolve()?.secret, rotated.token);
    assert.deepEqual(errors, [], 'a missing file is not an error worth logging');
  });

  it('resolves to nothing without a secret or a file', () => {
    assert.equal(createAuthSecretResolver({})(), undefined);
  });
});

describe('prepareAuth', () => {
  const configFor = (stateDir: string, flags: Record<string, string>) =>
    loadConfig({ env: {}, flags: { stateDir, ...flags } });

  it('refuses a non-loopback host without a configured secret (exit 78)', async () => {
    const stateDir = freshDir();
    await assert.rejects(prepareAuth(configFor(stateDir, { host: '0.0.0.0' })), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.exitCode, 78);
      assert.match(error.message, /refusing to listen on 0\.0\.0\.0/);
      return true;
    });
    await assert.rejects(stat(join(stateDir, 'token')), 'no token file is generated for a refused start');
  });

  it('accepts a non-loopback host with a configured token', async () => {
    const auth = await prepareAuth(configFor(freshDir(), { host: '0.0.0.0', token: 'configured-token' }));
    assert.equal(auth.mode, 'token');
    assert.equal(auth.tokenFile, undefined);
    assert.deepEqual(auth.getAuthSecret(), { mode: 'token', secret: 'configured-token' });
  });

  it('uses password mode for a configured password', async () => {
    const auth = await prepareAuth(configFor(freshDir(), { password: 'pw' }));
    assert.deepEqual(auth.getAuthSecret(), { mode: 'password', secret: 'pw' });
  });

  it('generates the token file on loopback', async () => {
    const stateDir = freshDir();
    const auth = await prepareAuth(configFor(stateDir, {}));
    assert.equal(auth.tokenFile?.created, true);
    assert.equal(auth.getAuthSecret()?.secret, auth.tokenFile?.token);
  });
});

describe('isLoopbackHost', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) {
    it(`treats ${host} as loopback`, () => assert.equal(isLoopbackHost(host), true));
  }
  for (const host of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'example.com', '128.0.0.1', 'localhost.example.com']) {
    it(`treats ${host} as not loopback`, () => assert.equal(isLoopbackHost(host), false));
  }
});
