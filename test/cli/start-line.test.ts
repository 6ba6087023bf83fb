import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliProcess } from '../helpers/spawn-cli.js';
import { cliCommand, hermeticEnv, makeTempHome, spawnCli, waitForListening, waitForReady } from '../helpers/spawn-cli.js';
import { startFakeModelServer } from '../helpers/fake-model-server.js';

const homes: string[] = [];
const children: CliProcess[] = [];
const PRETTY_LINE = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/;

async function freshHome(): Promise<string> {
  const home = await makeTempHome();
  homes.push(home);
  return home;
}

after(async () => {
  for (const child of children) child.kill();
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

async function startAndStop(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const cli = spawnCli(['gateway', '--port', '0', ...args], env);
  children.push(cli);
  await cli.waitForOutput(/^Pincer: .*$/m);
  cli.child.kill('SIGTERM');
  const result = await cli.waitForExit();
  assert.equal(result.code, 0, result.stderr);
  return result;
}

describe('the start line', () => {
  it('names the version, URL, web chat, token file and model on every start', async () => {
    const model = await startFakeModelServer();
    try {
      const home = await freshHome();
      const env = hermeticEnv(home, { PINCER_PROVIDER: 'openai', PINCER_MODEL: 'fake-model', PINCER_BASE_URL: model.url });
      await startAndStop([], env);
      const cli = spawnCli(['gateway', '--port', '0'], env);
      children.push(cli);
      const { url } = await waitForListening(cli);
      await waitForReady(url);
      const [line] = await cli.waitForOutput(/^Pincer: .*$/m);
      const tokenFile = join(home, '.pincer', 'token');
      assert.equal(line, `Pincer: 0.1.0 listening on ${url} · web chat ${url}/ · token in ${tokenFile} (print it with: pincer token) · model openai/fake-model at ${model.url}`.replace('0.1.0', line.split(' ')[1]));
      cli.child.kill('SIGTERM');
      await cli.waitForExit();
    } finally {
      await model.close();
    }
  });

  it('names a configured secret by its key without showing it', async () => {
    const home = await freshHome();
    const { stdout } = await startAndStop([], hermeticEnv(home, { PINCER_TOKEN: 'configured-secret-value-0123456789' }));
    assert.match(stdout, / · auth\.token is configured · no model configured \(set PINCER_PROVIDER and PINCER_MODEL\)\n$/);
    assert.ok(!stdout.includes('configured-secret-value'));
  });
});

describe('log format', () => {
  it('writes JSON lines when stderr is not a terminal', async () => {
    const { stderr } = await startAndStop([], hermeticEnv(await freshHome()));
    for (const line of stderr.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
  });

  it('writes readable lines with --log-format pretty and with PINCER_LOG_FORMAT=pretty', async () => {
    for (const [args, extra] of [[['--log-format', 'pretty'], {}], [[], { PINCER_LOG_FORMAT: 'pretty' }]] as const) {
      const { stderr } = await startAndStop([...args], hermeticEnv(await freshHome(), extra));
      const lines = stderr.trim().split('\n');
      assert.ok(lines.length > 2, stderr);
      for (const line of lines) assert.match(line, PRETTY_LINE);
      assert.ok(lines.some((line) => / INFO  gateway listening url=http:\/\/127\.0\.0\.1:\d+ host=127\.0\.0\.1 port=\d+ /.test(line)), stderr);
    }
  });

  it('writes readable lines on a terminal by default, and JSON there with --log-format json', async () => {
    const { command, args } = cliCommand();
    const onTerminal = async (extra: string[]): Promise<string> => {
      const home = await freshHome();
      // script(1) gives the gateway a pseudo-terminal; the gateway stops itself through the terminal's SIGHUP-free path: SIGTERM from us.
      const inner = [command, ...args, 'gateway', '--port', '0', ...extra].map((part) => `'${part}'`).join(' ');
      const child = spawn('script', ['-qefc', inner, '/dev/null'], { env: hermeticEnv(home, { TERM: 'dumb' }), stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const deadline = Date.now() + 20_000;
      while (!/^Pincer: /m.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      child.kill('SIGTERM');
      // script forwards the hang-up to the gateway; bound the wait either way.
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      return output.replace(/\r/g, '');
    };
    const pretty = await onTerminal([]);
    assert.match(pretty, /^\d\d:\d\d:\d\d\.\d{3} INFO  gateway listening url=/m, pretty);
    const json = await onTerminal(['--log-format', 'json']);
    assert.match(json, /^\{"level":"info","time":\d+,"msg":"gateway listening"/m, json);
  });
});
