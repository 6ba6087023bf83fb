/**
 * Issue 13, item 9: with two sends racing on one session, runs go one after
 * the other and chat.history reads as a conversation, each question before
 * its own reply (Q1 A1 Q2 A2), while both user messages are durable as soon
 * as they are acknowledged: a SIGKILL right after both acks keeps both, and
 * the restart closes each cut run right after its own question.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import type { ProtocolClient } from '../helpers/protocol-client.js';
import { makeTempHome } from '../helpers/spawn-cli.js';
import { connectChild, killChild, readHistory, startGatewayChild, type GatewayChild, type HistoryRow } from './gateway-process.js';

const WAIT_MS = 20_000;
const ROUNDS = 5;

describe('two sends racing on one session', { timeout: 120_000 }, () => {
  let fake: FakeModelServer;
  let home: string;
  let stateDir: string;
  let child: GatewayChild | undefined;
  const clients: ProtocolClient[] = [];

  before(async () => {
    fake = await startFakeModelServer({
      defaultReply: (request) =>
        JSON.stringify(request.body).includes('slow') ? { text: ['never ', 'ends'], chunkDelayMs: 60_000 } : { text: ['an ', 'answer'], chunkDelayMs: 30 },
    });
    home = await makeTempHome();
    stateDir = await mkdtemp(join(tmpdir(), 'pincer-order-'));
  });

  after(async () => {
    for (const client of clients) client.ws.terminate();
    child?.cli.kill();
    await fake.close();
    await rm(home, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  /** Send both at once from two clients; both must be acknowledged. */
  async function race(sessionKey: string, keys: [string, string], text: string): Promise<void> {
    const [a, b] = await Promise.all(
      keys.map((key, i) => clients[i]!.request('chat.send', { sessionKey, message: `${text} ${key}`, idempotencyKey: key }, { timeoutMs: WAIT_MS })),
    );
    assert.equal(a!.ok && b!.ok, true, `both sends acknowledged: ${JSON.stringify([a!.error, b!.error])}`);
  }

  /** Role and run of each row, e.g. `user:r1`. */
  const shape = (rows: HistoryRow[]): string[] =>
    rows.map((m) => `${m.role}:${m.role === 'user' ? m.__openclaw.idempotencyKey?.replace(/:user$/, '') : m.__openclaw.runId}`);

  it(`shows each question before its own reply over ${ROUNDS} races`, async () => {
    child = await startGatewayChild({ home, stateDir, modelUrl: fake.url });
    clients.push(await connectChild(child), await connectChild(child));
    const sessionKey = 'agent:main:race';
    const expected: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const keys: [string, string] = [`race-${round}-a`, `race-${round}-b`];
      await race(sessionKey, keys, 'question');
      for (const key of keys) {
        const wait = await clients[0]!.request('agent.wait', { runId: key, timeoutMs: WAIT_MS }, { timeoutMs: WAIT_MS + 5_000 });
        assert.equal(wait.payload?.status, 'ok', JSON.stringify(wait.payload ?? wait.error));
      }
      // Whichever send the gateway took first runs first; each reply follows its question.
      const rows = (await readHistory(clients[0]!, sessionKey)).slice(round * 4);
      const order = rows.filter((m) => m.role === 'user').map((m) => m.__openclaw.idempotencyKey!.replace(/:user$/, ''));
      expected.push(...order.flatMap((key) => [`user:${key}`, `assistant:${key}`]));
    }
    const history = shape(await readHistory(clients[0]!, sessionKey));
    console.log(`conversation order: ${ROUNDS} races, history ${history.slice(0, 4).join(' ')} …`);
    assert.deepEqual(history, expected);
  });

  it('keeps both acknowledged questions through a SIGKILL, each closed right after itself', async () => {
    assert.ok(child !== undefined);
    const sessionKey = 'agent:main:race-killed';
    await race(sessionKey, ['killed-a', 'killed-b'], 'slow question');
    await killChild(child);
    for (const client of clients.splice(0)) client.ws.terminate();

    child = await startGatewayChild({ home, stateDir, modelUrl: fake.url });
    clients.push(await connectChild(child));
    const rows = await readHistory(clients[0]!, sessionKey);
    const users = rows.filter((m) => m.role === 'user').map((m) => m.__openclaw.idempotencyKey!.replace(/:user$/, ''));
    assert.deepEqual([...users].sort(), ['killed-a', 'killed-b'], 'both acknowledged questions are stored');
    assert.deepEqual(shape(rows), users.flatMap((key) => [`user:${key}`, `assistant:${key}`]));
    assert.ok(rows.filter((m) => m.role === 'assistant').every((m) => m.stopReason === 'interrupted'));
  });
});
