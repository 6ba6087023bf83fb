/**
 * exec leaves nothing behind and sees no secrets, against the real gateway
 * process: a command that daemonizes (setsid, nohup) is gone when its run
 * ends and when the gateway is killed with SIGKILL mid-command, and the
 * command's environment holds only allow-listed variables. With bwrap it also
 * cannot see the state directory or write outside the workspace.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { probeBwrap } from '../../src/agent/tools/exec-containment.js';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeToolCall } from '../helpers/fake-model-types.js';
import { ProtocolClient, type AnyFrame } from '../helpers/protocol-client.js';
import { makeTempHome } from '../helpers/spawn-cli.js';
import { startGatewayChild, type GatewayChild } from '../reliability/gateway-process.js';

const WAIT_MS = 15_000;
const SECRET_ENV = {
  DATABASE_URL: 'postgres://app:hunter2-db-password@db.internal/app',
  GH_PAT: 'ghp_0123456789abcdefghijklmnopqrstuvwxyz',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-value',
  SOME_SETTING: 'not allow-listed either',
};
const ALLOWED_ENV = { LANG: 'C.UTF-8', LC_ALL: 'C', TZ: 'UTC', TERM: 'dumb', GIT_AUTHOR_NAME: 'Pincer Test' };

let fake: FakeModelServer;
before(async () => {
  fake = await startFakeModelServer();
});
after(() => fake.close());

/** Pids whose command line contains `needle` (host /proc, so sandboxed processes count too). */
async function processesMatching(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').join(' ').includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

function containmentSuite(sandbox: 'auto' | 'none', options: { skip?: string } = {}) {
  describe(`exec containment (tools.exec.sandbox "${sandbox}")`, { skip: options.skip }, () => {
    let home: string;
    let stateDir: string;
    let gateway: GatewayChild;
    let client: ProtocolClient;
    /** Unique per suite so parallel runs never count each other's sleeps. */
    const tag = `${randomInt(1000, 9999)}.${randomInt(100, 999)}`;
    const strays: number[] = [];

    before(async () => {
      home = await makeTempHome();
      stateDir = join(home, '.pincer');
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      gateway = await startGatewayChild({
        home,
        stateDir,
        modelUrl: fake.url,
        env: { ...SECRET_ENV, ...ALLOWED_ENV },
        config: { tools: { exec: { enabled: true, timeoutMs: 20_000, sandbox, env: ['GIT_AUTHOR_*'] } } },
      });
      client = await ProtocolClient.open(gateway.wsUrl);
      assert.ok((await client.connect({ token: gateway.token })).ok);
    });
    after(async () => {
      await client?.close();
      gateway?.cli.kill();
      // Only what this suite started and the containment let escape (the fallback's documented gap).
      for (const pid of [...strays, ...(await processesMatching(`sleep 9${tag}`))]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      await rm(home, { recursive: true, force: true });
    });

    /** One exec call in a run of its own; resolves with its result text once the run is final. */
    async function exec(command: string): Promise<string> {
      const results = await runTools([{ id: 'x', name: 'exec', arguments: { command } }]);
      return results[0]!;
    }

    async function runTools(calls: FakeToolCall[]): Promise<string[]> {
      fake.reset();
      fake.enqueue({ toolCalls: calls }, { text: 'done' });
      const sessionKey = `exec-${randomUUID()}`;
      const runId = randomUUID();
      assert.ok((await client.request('chat.send', { sessionKey, message: 'go', idempotencyKey: runId })).ok);
      await client.waitFor(
        (f: AnyFrame) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId && f.payload?.state === 'final',
        WAIT_MS,
        'final chat event',
      );
      const history = await client.request('chat.history', { sessionKey, limit: 100 });
      const messages = (history.payload as { messages: any[] }).messages.filter((m) => m.role === 'toolResult');
      return messages.map((m) => m.content.map((b: any) => b.text ?? '').join(''));
    }

    it('passes only allow-listed variables to the command', async () => {
      const output = await exec('env');
      const names = output
        .split('\n')
        .filter((line) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(line))
        .map((line) => line.slice(0, line.indexOf('=')))
        .sort();
      console.log(`variables visible to exec (${sandbox}): ${names.length}: ${names.join(' ')}`);
      for (const [name, value] of Object.entries(SECRET_ENV)) {
        assert.ok(!names.includes(name), `${name} reached the command`);
        assert.ok(!output.includes(value), `the value of ${name} reached the command`);
      }
      for (const name of ['LANG', 'LC_ALL', 'TZ', 'TERM', 'PATH', 'HOME', 'GIT_AUTHOR_NAME']) assert.ok(names.includes(name), `${name} is passed`);
      const allowed = /^(PATH|HOME|LANG|LC_[A-Z_]+|TERM|TZ|USER|SHELL|TMPDIR|GIT_AUTHOR_[A-Z_]+|PWD|SHLVL|_|OLDPWD|PINCER_EXEC_RUN)$/;
      for (const name of names) assert.match(name, allowed, `${name} is not on the allow-list`);
    });

    it('ends every process a command started when its run ends', async () => {
      const output = await exec(
        `setsid sh -c 'sleep 9${tag}1' </dev/null >/dev/null 2>&1 & nohup sleep 9${tag}2 </dev/null >/dev/null 2>&1 & ` +
          `(sleep 9${tag}3 &) ; echo started`,
      );
      assert.match(output, /started/);
      await waitFor(async () => (await processesMatching(`sleep 9${tag}`)).length === 0, 2_000);
      const left = await processesMatching(`sleep 9${tag}`);
      console.log(`processes left after the run (${sandbox}): ${left.length}`);
      assert.equal(left.length, 0);
    });

    it('ends them when the gateway is killed with SIGKILL mid-command', { skip: sandbox === 'none' ? 'without bwrap nothing outlives a SIGKILL of the gateway for sure (README)' : undefined }, async () => {
      fake.reset();
      fake.enqueue({ toolCalls: [{ id: 'k', name: 'exec', arguments: { command: `setsid sh -c 'sleep 9${tag}4' </dev/null >/dev/null 2>&1 & sleep 9${tag}5` } }] }, { text: 'done' });
      assert.ok((await client.request('chat.send', { sessionKey: `exec-${randomUUID()}`, message: 'go', idempotencyKey: randomUUID() })).ok);
      assert.ok(await waitFor(async () => (await processesMatching(`sleep 9${tag}`)).length >= 2, WAIT_MS), 'the command started');
      gateway.cli.child.kill('SIGKILL');
      await gateway.cli.waitForExit();
      await waitFor(async () => (await processesMatching(`sleep 9${tag}`)).length === 0, 2_000);
      const left = await processesMatching(`sleep 9${tag}`);
      strays.push(...left);
      console.log(`processes left after the gateway was killed (${sandbox}): ${left.length}`);
      assert.equal(left.length, 0);
    });
  });
}

const bwrap = probeBwrap();
containmentSuite('auto', { skip: bwrap.ok ? undefined : `bwrap cannot run here: ${bwrap.reason}` });
containmentSuite('none');

describe('exec inside the bwrap sandbox', { skip: bwrap.ok ? undefined : `bwrap cannot run here: ${!bwrap.ok ? bwrap.reason : ''}` }, () => {
  it('cannot see the state directory, write outside the workspace or reach the network', async () => {
    const home = await makeTempHome();
    const stateDir = join(home, '.pincer');
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const gateway = await startGatewayChild({ home, stateDir, modelUrl: fake.url, config: { tools: { exec: { enabled: true, timeoutMs: 10_000 } } } });
    const client = await ProtocolClient.open(gateway.wsUrl);
    // Outside /tmp (the sandbox has a private one) and outside the workspace.
    const outside = join(process.cwd(), `.exec-outside-${randomUUID()}`);
    try {
      assert.ok((await client.connect({ token: gateway.token })).ok);
      fake.reset();
      const commands = [
        `ls -a ${stateDir}; cat ${join(stateDir, 'reliability-config.json')} ${join(stateDir, 'token')}; echo end`,
        `echo x > ${outside} && echo wrote-outside; echo x > ${join(home, 'tmp.txt')}; echo x > inside.txt && echo wrote-inside`,
        `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${gateway.port} && echo reached' 2>/dev/null || echo no-network`,
      ];
      fake.enqueue({ toolCalls: commands.map((command, i) => ({ id: `s${i}`, name: 'exec', arguments: { command } })) }, { text: 'done' });
      const sessionKey = `exec-${randomUUID()}`;
      const runId = randomUUID();
      assert.ok((await client.request('chat.send', { sessionKey, message: 'go', idempotencyKey: runId })).ok);
      await client.waitFor((f: AnyFrame) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId && f.payload?.state === 'final', WAIT_MS, 'final');
      const history = await client.request('chat.history', { sessionKey, limit: 100 });
      const byId = new Map<string, string>(
        (history.payload as { messages: any[] }).messages.filter((m) => m.role === 'toolResult').map((m) => [m.toolCallId, m.content.map((b: any) => b.text ?? '').join('')]),
      );
      assert.doesNotMatch(byId.get('s0')!, new RegExp(gateway.token));
      // The state directory is an empty tmpfs with only the workspace mounted back in.
      const listing = byId.get('s0')!.split('\n').slice(0, 3);
      assert.deepEqual(listing, ['.', '..', 'workspace'], byId.get('s0'));
      assert.doesNotMatch(byId.get('s0')!, /"provider"|fake-model/);
      assert.doesNotMatch(byId.get('s1')!, /wrote-outside/);
      assert.match(byId.get('s1')!, /wrote-inside/);
      assert.equal(await readFile(join(stateDir, 'workspace', 'inside.txt'), 'utf8'), 'x\n');
      await assert.rejects(readFile(outside), 'nothing written outside the workspace');
      await assert.rejects(readFile(join(home, 'tmp.txt')), '/tmp inside the sandbox is its own');
      assert.match(byId.get('s2')!, /no-network/);
    } finally {
      await client.close();
      gateway.cli.kill();
      await rm(home, { recursive: true, force: true });
      await rm(outside, { force: true });
    }
  });
});
