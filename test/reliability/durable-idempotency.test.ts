/**
 * Issue 13, items 1 and 2, with the real gateway process. (1) A chat.send key
 * acknowledged before 1,000 more messages and a SIGKILL, replayed after the
 * restart, answers with the original run and calls no model. (2) Every run
 * cut by a SIGKILL is closed at the restart, however deep in its session:
 * 300 acknowledged sends queued on one session, killed, each ends up with
 * exactly one closing row.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { makeTempHome } from '../helpers/spawn-cli.js';
import { startGatewayChild, type GatewayChild } from './gateway-process.js';

const WAIT_MS = 30_000;
const KEY_SESSION = 'agent:main:idem-key';
/** Messages added after the key (a user row and a reply per send), most in the key's own session. */
const MORE_MESSAGES = 1_000;
const OTHER_SESSIONS = 4;
const QUEUED_SENDS = 300;

interface HistoryRow {
  role: string;
  stopReason?: string;
  content: { type: string; text?: string }[];
  __openclaw: { id: string; runId?: string; idempotencyKey?: string };
}

describe('idempotency and recovery across a SIGKILL', { timeout: 240_000 }, () => {
  let fake: FakeModelServer;
  let home: string;
  let stateDir: string;
  let child: GatewayChild | undefined;
  const clients = new Set<ProtocolClient>();

  before(async () => {
    fake = await startFakeModelServer({
      defaultReply: (request) => (JSON.stringify(request.body).includes('slow ') ? { text: ['never ', 'done'], chunkDelayMs: 60_000 } : { text: 'ok' }),
    });
    home = await makeTempHome();
    stateDir = await mkdtemp(join(tmpdir(), 'pincer-idem-'));
  });

  after(async () => {
    for (const client of clients) client.ws.terminate();
    child?.cli.kill();
    await fake.close();
    await rm(home, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  async function connect(gateway: GatewayChild): Promise<ProtocolClient> {
    const client = await ProtocolClient.open(gateway.wsUrl);
    clients.add(client);
    const res = await client.connect({ token: gateway.token }, WAIT_MS);
    assert.equal(res.ok, true, `connect failed: ${JSON.stringify(res.error)}`);
    return client;
  }

  async function restartAfterKill(gateway: GatewayChild): Promise<GatewayChild> {
    for (const client of clients) client.ws.terminate();
    clients.clear();
    gateway.cli.child.kill('SIGKILL');
    assert.equal((await gateway.cli.waitForExit(WAIT_MS)).signal, 'SIGKILL');
    return startGatewayChild({ home, stateDir, modelUrl: fake.url, config: { agent: { maxConcurrentRuns: 8 } } });
  }

  it(`answers a key replayed after ${MORE_MESSAGES} more messages and a SIGKILL with its original run, calling no model`, async () => {
    child = await startGatewayChild({ home, stateDir, modelUrl: fake.url, config: { agent: { maxConcurrentRuns: 8 } } });
    const client = await connect(child);
    const sends: { sessionKey: string; key: string; text: string }[] = [{ sessionKey: KEY_SESSION, key: 'idem-first', text: 'the first question' }];
    for (let i = 0; i < MORE_MESSAGES / 2; i++) {
      // Three in four in the key's own session, so its user row ends up far from the newest rows.
      const sessionKey = i % 4 === 3 ? `agent:main:idem-other-${i % OTHER_SESSIONS}` : KEY_SESSION;
      sends.push({ sessionKey, key: `idem-${i}`, text: `question ${i}` });
    }
    for (const send of sends) {
      const res = await client.request('chat.send', { sessionKey: send.sessionKey, message: send.text, idempotencyKey: send.key }, { timeoutMs: WAIT_MS });
      assert.equal(res.ok, true, `chat.send ${send.key}: ${JSON.stringify(res.error)}`);
      assert.equal(res.payload.runId, send.key);
    }
    for (const send of sends) {
      const res = await client.request('agent.wait', { runId: send.key, timeoutMs: WAIT_MS }, { timeoutMs: WAIT_MS + 5_000 });
      assert.equal(res.payload?.status, 'ok', `run ${send.key} did not finish: ${JSON.stringify(res.payload ?? res.error)}`);
    }
    const callsBefore = fake.requests.length;
    assert.equal(callsBefore, sends.length);

    child = await restartAfterKill(child);
    const replayer = await connect(child);
    let started = 0;
    for (const send of sends) {
      const res = await replayer.request('chat.send', { sessionKey: send.sessionKey, message: send.text, idempotencyKey: send.key }, { timeoutMs: WAIT_MS });
      assert.equal(res.ok, true, `replay ${send.key}: ${JSON.stringify(res.error)}`);
      assert.equal(res.payload.runId, send.key, `replay ${send.key} names its original run`);
      if (res.payload.status === 'started') started++;
      else assert.equal(res.payload.status, 'ok', `replay ${send.key} reports the run's outcome`);
    }
    const wait = await replayer.request('agent.wait', { runId: 'idem-first', timeoutMs: 0 }, { timeoutMs: WAIT_MS });
    assert.equal(wait.payload?.status, 'ok');
    // A model call would have arrived by now; none may.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const history = await replayer.request('chat.history', { sessionKey: KEY_SESSION, limit: 1000 }, { timeoutMs: WAIT_MS });
    const firstRows = (history.payload.messages as HistoryRow[]).filter((m) => m.__openclaw.idempotencyKey === 'idem-first:user');
    console.log(
      `durable idempotency: ${sends.length} keys replayed after ${MORE_MESSAGES} more messages and a SIGKILL: ${started} runs started, ` +
        `${fake.requests.length - callsBefore} model calls; /ready ${child.readyAfterListenMs} ms after listening`,
    );
    assert.equal(started, 0, 'no replay starts a second run');
    assert.equal(fake.requests.length, callsBefore, 'no replay calls the model');
    assert.equal(firstRows.length, 1, 'the first user message is stored once');
  });

  it(`closes all ${QUEUED_SENDS} runs cut by a SIGKILL while queued on one session`, async () => {
    assert.ok(child !== undefined);
    const client = await connect(child);
    const sessionKey = 'agent:main:idem-queued';
    const calls = fake.requests.length;
    const keys: string[] = [];
    for (let i = 0; i < QUEUED_SENDS; i++) {
      const key = `queued-${i}`;
      const res = await client.request('chat.send', { sessionKey, message: `slow ${i}`, idempotencyKey: key }, { timeoutMs: WAIT_MS });
      assert.equal(res.ok, true, `chat.send ${key}: ${JSON.stringify(res.error)}`);
      keys.push(key);
    }
    // The first run streams (forever); the other 299 wait behind it.
    await fake.waitFor((server) => server.requests.length > calls, WAIT_MS);

    child = await restartAfterKill(child);
    const checker = await connect(child);
    const history = await checker.request('chat.history', { sessionKey, limit: 1000 }, { timeoutMs: WAIT_MS });
    assert.equal(history.ok, true, JSON.stringify(history.error));
    const rows = history.payload.messages as HistoryRow[];
    let closed = 0;
    for (const key of keys) {
      const users = rows.filter((m) => m.role === 'user' && m.__openclaw.idempotencyKey === `${key}:user`);
      assert.equal(users.length, 1, `acknowledged ${key} is stored once`);
      const ends = rows.filter((m) => m.role === 'assistant' && m.__openclaw.runId === key);
      assert.equal(ends.length, 1, `run ${key} has exactly one closing row, found ${ends.length}`);
      assert.equal(ends[0]!.stopReason, 'interrupted');
      closed++;
    }
    console.log(`crash recovery: ${closed} of ${QUEUED_SENDS} runs cut by a SIGKILL closed as interrupted; /ready ${child.readyAfterListenMs} ms after listening`);
    child.cli.child.kill('SIGTERM');
    assert.equal((await child.cli.waitForExit(WAIT_MS)).code, 0);
    child = undefined;
  });
});
