import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hermeticEnv, makeTempHome, runCli } from '../helpers/spawn-cli.js';

const GATEWAY_OPTIONS = [
  '--host',
  '--port',
  '--token',
  '--password',
  '--config',
  '--state-dir',
  '--log-level',
  '--no-websocket',
  '--enable-websocket',
  '--help',
];

let home: string;
let env: Record<string, string>;

/** Every failure is one short line on stderr, never a stack trace. */
function assertOneLine(stderr: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0], /^pincer: /);
  assert.ok(!/\n\s+at /.test(stderr), 'no stack trace');
}

before(async () => {
  home = await makeTempHome();
  // A broken config in the default location must not break help or usage errors.
  await mkdir(join(home, '.pincer'), { recursive: true });
  await writeFile(join(home, '.pincer', 'config.json'), '{ "gateway": { "port": oops ');
  env = hermeticEnv(home);
});

after(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('pincer gateway --help', { concurrency: 4 }, () => {
  for (const flag of ['--help', '-h']) {
    it(`${flag} prints usage, every option and examples, exit 0, with a malformed config present`, async () => {
      const result = await runCli(['gateway', flag], env);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Usage: pincer gateway \[options\]/);
      for (const option of GATEWAY_OPTIONS) assert.ok(result.stdout.includes(option), `help mentions ${option}`);
      assert.match(result.stdout, /Examples:/);
      assert.match(result.stdout, /PINCER_TOKEN/);
      assert.equal(result.stderr, '');
    });
  }

  it('also works with --config pointing at a malformed file', async () => {
    const bad = join(home, 'bad.json');
    await writeFile(bad, '[[[');
    const result = await runCli(['gateway', '--config', bad, '--help'], env);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: pincer gateway/);
  });

  it('pincer --help lists the commands', async () => {
    const result = await runCli(['--help'], env);
    assert.equal(result.code, 0);
    for (const command of ['gateway', 'token', 'status']) assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
  });
});

describe('pincer --version', () => {
  it('prints the package version', async () => {
    const pkgPath = fileURLToPath(new URL('../../package.json', import.meta.url));
    let version: string;
    try {
      version = (JSON.parse(await readFile(pkgPath, 'utf8')) as { version: string }).version;
    } catch {
      // Built tests live one level deeper (dist/test/cli).
      const built = fileURLToPath(new URL('../../../package.json', import.meta.url));
      version = (JSON.parse(await readFile(built, 'utf8')) as { version: string }).version;
    }
    const result = await runCli(['--version'], env);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), version);
  });
});

describe('usage errors', { concurrency: 4 }, () => {
  const cases: { name: string; args: string[]; pattern: RegExp }[] = [
    { name: 'an unknown flag', args: ['gateway', '--bogus'], pattern: /unknown option '--bogus'/ },
    { name: 'a non-numeric port', args: ['gateway', '--port', 'abc'], pattern: /--port.*'abc' is invalid/ },
    { name: 'a port out of range', args: ['gateway', '--port', '70000'], pattern: /--port.*'70000' is invalid/ },
    { name: 'a negative port', args: ['gateway', '--port', '-1'], pattern: /--port/ },
    { name: 'an unknown log level', args: ['gateway', '--log-level', 'loud'], pattern: /--log-level/ },
    { name: 'an unknown command', args: ['frobnicate'], pattern: /unknown command 'frobnicate'/ },
  ];
  for (const { name, args, pattern } of cases) {
    it(`rejects ${name} with one line and exit 64`, async () => {
      const result = await runCli(args, env);
      assert.equal(result.code, 64, result.stderr);
      assertOneLine(result.stderr);
      assert.match(result.stderr, pattern);
      assert.equal(result.stdout, '');
    });
  }
});
