/**
 * Issue 6, item 1: SIGKILL the real gateway process while chats stream, then
 * restart it on the same state dir. Every acknowledged user message is there
 * exactly once, every session reads back, /ready is 200 within 2 s of the
 * restarted process listening, and a run cut by the kill ends in history as
 * `interrupted` instead of leaving a silent gap.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { makeTempHome, type CliResult } from '../helpers/spawn-cli.js';
import { startGatewayChild, type GatewayChild } from './gateway-process.js';
import { SEED, seededRandom, soakCount } from './soak-settings.js';

const ROUNDS = soakCount('CRASH_ROUNDS', 3, 20);
const CHATS = soakCount('CRASH_CHATS', 6, 50);
/** Reply chunks and the pause between them: each reply streams for about CHUNKS × CHUNK_DELAY_MS. */
const REPLY_CHUNKS = 12;
const CHUNK_DELAY_MS = 40;
/** The kill lands this long at most after the first stream started, ms (under half a reply). */
const MAX_KILL_DELAY_MS = 200;
/** Share of rounds killed in the accept window instead: 0-MAX_EARLY_KILL_DELAY_MS after the sends went out. */
const EARLY_KILL_SHARE = 0.3;
const MAX_EARLY_KILL_DELAY_MS = 30;
/** /ready must answer 200 this soon after the restarted process listens (issue 6). */
const READY_BUDGET_MS = 2_000;
const WAIT_MS = 10_000;
const CONNECT_BATCH = 8;

interface SentMessage {
  sessionKey: string;
  key: string;
  text: string;
  acked: boolean;
}

describe('crash safety: SIGKILL during streaming chats, then restart', { timeout: 60_000 + ROUNDS * CHATS * 400 }, () => {
  let fake: FakeModelServer;
  let home: string;
  let stateDir: string;
  let child: GatewayChild | undefined;
  const clients = new Set<ProtocolClient>();

  before(async () => {
    fake = await startFakeModelServer({
      defaultReply: { text: Array.from({ length: REPLY_CHUNKS }, (_, i) => `part${i} `), chunkDelayMs: CHUNK_DELAY_MS },
    });
    home = await makeTempHome();
    stateDir = await mkdtemp(join(tmpdir(), 'pincer-crash-'));
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

  it(`keeps every acknowledged message exactly once over ${ROUNDS} kills with ${CHATS} chats each`, async () => {
    const random = seededRandom(SEED);
    const sent: SentMessage[] = [];
    const figures = { readyAfterListenMs: [] as number[], interrupted: 0, acked: 0, unacked: 0 };
    child = await startGatewayChild({ home, stateDir, modelUrl: fake.url, config: { agent: { maxConcurrentRuns: CHATS } } });

    for (let round = 0; round < ROUNDS; round++) {
      const gateway: GatewayChild = child;
      const roundClients: ProtocolClient[] = [];
      // In batches: the gateway admits at most 16 unauthenticated sockets per IP (protocol.md §8.1).
      while (roundClients.length < CHATS) {
        const batch = Math.min(CONNECT_BATCH, CHATS - roundClients.length);
        roundClients.push(...(await Promise.all(Array.from({ length: batch }, () => connect(gateway)))));
      }
      const streamsBefore = fake.requests.length;
      roundClients.forEach((client, i) => {
        const message: SentMessage = { sessionKey: `agent:main:crash-${i}`, key: `crash-r${round}-c${i}`, text: `round ${round} chat ${i}`, acked: false };
        sent.push(message);
        client
          .request('chat.send', { sessionKey: message.sessionKey, message: message.text, idempotencyKey: message.key }, { timeoutMs: WAIT_MS })
          .then((res) => {
            if (res.ok) message.acked = true;
          })
          .catch(() => undefined);
      });
      // Most kills land while replies stream; some land while user messages are still being stored and acknowledged.
      // The last round kills mid-stream when no earlier one cut a run, so the seed cannot make every kill land early.
      const mustCutStreams = round === ROUNDS - 1 && figures.interrupted === 0;
      if (random() < EARLY_KILL_SHARE && !mustCutStreams) {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * MAX_EARLY_KILL_DELAY_MS)));
      } else {
        await fake.waitFor((server) => server.requests.length > streamsBefore, WAIT_MS);
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * MAX_KILL_DELAY_MS)));
      }
      gateway.cli.child.kill('SIGKILL');
      const exit: CliResult = await gateway.cli.waitForExit(WAIT_MS);
      assert.equal(exit.signal, 'SIGKILL');
      for (const client of roundClients) {
        client.ws.terminate();
        clients.delete(client);
      }

      child = await startGatewayChild({ home, stateDir, modelUrl: fake.url, config: { agent: { maxConcurrentRuns: CHATS } } });
      figures.readyAfterListenMs.push(child.readyAfterListenMs);
      assert.ok(child.readyAfterListenMs < READY_BUDGET_MS, `round ${round}: /ready took ${child.readyAfterListenMs} ms after listening`);
      const checker = await connect(child);
      figures.interrupted += await checkHistory(checker, sent, round);
      await checker.close();
      clients.delete(checker);
    }
    figures.acked = sent.filter((m) => m.acked).length;
    figures.unacked = sent.length - figures.acked;
    assert.ok(figures.interrupted > 0, 'no run was cut by a kill: the kill moments missed every stream');

    // A clean stop after the last check: the restarted gateway drains and exits 0.
    child.cli.child.kill('SIGTERM');
    assert.equal((await child.cli.waitForExit(WAIT_MS)).code, 0);
    const ready = figures.readyAfterListenMs;
    console.log(
      `crash safety: ${ROUNDS} rounds x ${CHATS} chats, seed ${SEED}: ${figures.acked} acknowledged, ${figures.unacked} unacknowledged,` +
        ` ${figures.interrupted} interrupted runs closed; /ready after listen max ${Math.max(...ready)} ms, mean ${Math.round(ready.reduce((a, b) => a + b, 0) / ready.length)} ms`,
    );
  });
});

/**
 * Read back every session written so far: each acknowledged message exactly
 * once, an unacknowledged one at most once, and every user row closed by a
 * terminal assistant row of its run. Returns the runs closed as interrupted
 * in this round.
 */
async function checkHistory(client: ProtocolClient, sent: SentMessage[], round: number): Promise<number> {
  const list = await client.request('sessions.list', {}, { timeoutMs: WAIT_MS });
  assert.equal(list.ok, true, `sessions.list failed: ${JSON.stringify(list.error)}`);
  const listed = new Set((list.payload.sessions as { key: string }[]).map((row) => row.key));
  let interrupted = 0;
  for (const sessionKey of new Set(sent.map((m) => m.sessionKey))) {
    const expected = sent.filter((m) => m.sessionKey === sessionKey);
    const res = await client.request('chat.history', { sessionKey, limit: 1000 }, { timeoutMs: WAIT_MS });
    assert.equal(res.ok, true, `round ${round}: ${sessionKey} unreadable: ${JSON.stringify(res.error)}`);
    const messages = res.payload.messages as { role: string; content: { type: string; text?: string }[]; stopReason?: string; __openclaw: { runId?: string; idempotencyKey?: string } }[];
    if (expected.some((m) => m.acked)) assert.ok(listed.has(sessionKey), `round ${round}: ${sessionKey} missing from sessions.list`);
    for (const message of expected) {
      const copies = messages.filter((m) => m.role === 'user' && m.__openclaw.idempotencyKey === `${message.key}:user`);
      if (message.acked) assert.equal(copies.length, 1, `round ${round}: acknowledged ${message.key} present ${copies.length} times`);
      else assert.ok(copies.length <= 1, `round ${round}: unacknowledged ${message.key} present ${copies.length} times`);
      if (copies.length === 1) assert.equal(copies[0]!.content.map((b) => b.text ?? '').join(''), message.text);
    }
    const closing = new Map<string, string>();
    for (const m of messages) if (m.role === 'assistant' && m.__openclaw.runId !== undefined) closing.set(m.__openclaw.runId, m.stopReason ?? 'stop');
    for (const m of messages) {
      if (m.role !== 'user') continue;
      const runId = m.__openclaw.idempotencyKey!.replace(/:user$/, '');
      const stop = closing.get(runId);
      assert.ok(stop !== undefined, `round ${round}: run ${runId} has no closing row (a silent gap)`);
      if (stop === 'interrupted' && runId.startsWith(`crash-r${round}-`)) interrupted++;
    }
  }
  return interrupted;
}
