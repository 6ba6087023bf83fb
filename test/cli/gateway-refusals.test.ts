import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { hermeticEnv, makeTempHome, runCli } from '../helpers/spawn-cli.js';

const EXIT_CONFIG = 78;
const homes: string[] = [];

async function freshHome(config?: unknown): Promise<string> {
  const home = await makeTempHome();
  homes.push(home);
  if (config !== undefined) {
    await mkdir(join(home, '.pincer'), { recursive: true });
    await writeFile(join(home, '.pincer', 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  }
  return home;
}

/** One line on stderr starting "pincer: ", no stack trace, nothing on stdout. */
function assertOneLine(result: { stdout: string; stderr: string }): string {
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0], /^pincer: /);
  assert.ok(!/^\s+at /m.test(result.stderr), 'no stack trace');
  assert.equal(result.stdout, '');
  return lines[0];
}

after(async () => {
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

describe('pincer gateway refuses to start', { concurrency: 4 }, () => {
  it('on --host 0.0.0.0 without a secret (exit 78), generating no token', async () => {
    const home = await freshHome();
    const result = await runCli(['gateway', '--host', '0.0.0.0', '--port', '0'], hermeticEnv(home));
    assert.equal(result.code, EXIT_CONFIG);
    const line = assertOneLine(result);
    assert.match(line, /refusing to listen on 0\.0\.0\.0 without a configured secret/);
    assert.match(line, /PINCER_TOKEN/);
    await assert.rejects(stat(join(home, '.pincer', 'token')));
  });

  it('on PINCER_HOST=:: without a secret', async () => {
    const home = await freshHome();
    const result = await runCli(['gateway', '--port', '0'], hermeticEnv(home, { PINCER_HOST: '::' }));
    assert.equal(result.code, EXIT_CONFIG);
    assertOneLine(result);
  });

  it('on an empty --token', async () => {
    const home = await freshHome();
    const result = await runCli(['gateway', '--port', '0', '--token', ''], hermeticEnv(home));
    assert.equal(result.code, EXIT_CONFIG);
    assert.match(assertOneLine(result), /--token.*must not be empty/);
  });

  it('on an empty PINCER_TOKEN', async () => {
    const home = await freshHome();
    const result = await runCli(['gateway', '--port', '0'], hermeticEnv(home, { PINCER_TOKEN: '' }));
    assert.equal(result.code, EXIT_CONFIG);
    assert.match(assertOneLine(result), /PINCER_TOKEN.*must not be empty/);
  });

  it('on an empty auth.token in the config file', async () => {
    const home = await freshHome({ auth: { token: '' } });
    const result = await runCli(['gateway', '--port', '0'], hermeticEnv(home));
    assert.equal(result.code, EXIT_CONFIG);
    assert.match(assertOneLine(result), /auth\.token/);
  });

  it('on a bad PINCER_PORT', async () => {
    const home = await freshHome();
    const result = await runCli(['gateway'], hermeticEnv(home, { PINCER_PORT: 'http' }));
    assert.equal(result.code, EXIT_CONFIG);
    assert.match(assertOneLine(result), /PINCER_PORT/);
  });
});

describe('config errors name the field and the file', { concurrency: 4 }, () => {
  const cases: { name: string; config: unknown; field: RegExp }[] = [
    { name: 'a bad port', config: { gateway: { port: 'x' } }, field: /gateway\.port/ },
    { name: 'an unknown key', config: { gateway: { websockets: true } }, field: /unknown key gateway\.websockets/ },
    { name: 'a bad log level', config: { logLevel: 'chatty' }, field: /logLevel/ },
    { name: 'a bad provider', config: { provider: { kind: 'x', model: 'm' } }, field: /provider\.kind/ },
    { name: 'malformed JSON', config: '{"gateway":', field: /not valid JSON/ },
  ];
  for (const { name, config, field } of cases) {
    it(`reports ${name} with exit 78`, async () => {
      const home = await freshHome(config);
      const result = await runCli(['gateway', '--port', '0'], hermeticEnv(home));
      assert.equal(result.code, EXIT_CONFIG, result.stderr);
      const line = assertOneLine(result);
      assert.match(line, field);
      assert.ok(line.includes(join(home, '.pincer', 'config.json')), line);
    });
  }

  it('reports a missing --config file', async () => {
    const home = await freshHome();
    const missing = join(home, 'missing.json');
    const result = await runCli(['gateway', '--config', missing], hermeticEnv(home));
    assert.equal(result.code, EXIT_CONFIG);
    assert.ok(assertOneLine(result).includes(missing));
  });
});

describe('pincer gateway on a port in use', () => {
  let blocker: Server;
  let port: number;

  before(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    assert.ok(address !== null && typeof address === 'object');
    port = address.port;
  });

  after(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });

  it('prints one clear line and exits non-zero', async () => {
    const home = await freshHome();
    const result = await runCli(['gateway', '--port', String(port), '--token', 't'], hermeticEnv(home));
    assert.equal(result.code, 1);
    const line = assertOneLine(result).replace(/^pincer: /, '');
    assert.equal(line, `cannot listen on 127.0.0.1:${port}: address already in use (is another gateway running? try \`pincer status\` or another --port)`);
  });
});
