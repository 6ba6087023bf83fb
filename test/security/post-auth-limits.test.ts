/**
 * Post-auth limits (protocol.md §8.3) against the real gateway with a fake
 * model: maxPayload, the consecutive-error and request-rate budgets (a
 * flooding client is closed 1008 while another client's chat is unaffected),
 * sampled logging of the flood, and the slow-consumer cut-off.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { REPLY_TEXT, runEvents, startStack, waitTerminal, type Stack } from '../channels/openclaw/e2e-setup.js';
import { capturingLogger } from './security-helpers.js';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';

const MAX_PAYLOAD_BYTES = 256 * 1024;
const MAX_BUFFERED_BYTES = 1024 * 1024;
const MAX_CONSECUTIVE_ERRORS = 100;
const WAIT_MS = 10_000;
/** The rate budget needs 5 whole seconds over 50 req/s; give it a bounded margin. */
const RATE_FLOOD_LIMIT_MS = 12_000;
const FLOODERS = 20;
/** A low configured rate budget, so the flood test needs few requests. */
const FLOOD_RATE_PER_S = 50;

/** Send chat.send and wait for its final event; returns the run's events. */
async function chat(client: ProtocolClient, sessionKey: string, message = 'hello') {
  const sent = await client.request('chat.send', { sessionKey, message, idempotencyKey: randomUUID() });
  assert.equal(sent.ok, true, JSON.stringify(sent.error));
  const terminal = await waitTerminal(client, sent.payload.runId, WAIT_MS);
  return { runId: sent.payload.runId as string, terminal };
}

describe('post-auth limits', () => {
  let fake: FakeModelServer;
  let gateway: StartedGateway;
  const { logger, lines } = capturingLogger('warn');
  const clients: ProtocolClient[] = [];

  before(async () => {
    fake = await startFakeModelServer({ defaultReply: { text: REPLY_TEXT.split(' ').map((w) => `${w} `), chunkDelayMs: 5 } });
    gateway = await startGateway({
      logger,
      overrides: {
        provider: { kind: 'openai', baseUrl: fake.url, apiKey: 'test-key', model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 },
        gateway: { maxPayloadBytes: MAX_PAYLOAD_BYTES, maxRequestsPerSecond: FLOOD_RATE_PER_S },
      },
    });
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await gateway.close();
    await fake.close();
  });

  async function client(): Promise<ProtocolClient> {
    const c = await ProtocolClient.open(gateway.wsUrl);
    clients.push(c);
    const res = await c.connect({ token: gateway.token });
    assert.equal(res.ok, true);
    return c;
  }

  it('reports the configured maxPayload and closes 1009 above it', async () => {
    const c = await client();
    const hello = c.frames.find((f) => f.type === 'res' && f.ok)!.payload;
    assert.equal(hello.policy.maxPayload, MAX_PAYLOAD_BYTES);
    c.sendRaw(JSON.stringify({ type: 'req', id: 'big', method: 'health', params: { pad: 'x'.repeat(MAX_PAYLOAD_BYTES) } }));
    // ws's own cap answers with the code alone (its receiver sends no reason).
    assert.equal((await c.waitClosed(WAIT_MS)).code, 1009);
  });

  it('closes clients that send 100 errors in a row with 1008, logs by sampling, and leaves a chat alone', async () => {
    const chatter = await client();
    // One at a time: more than 16 sockets still in the handshake from one IP would be refused (§8.1).
    const flooders: ProtocolClient[] = [];
    for (let i = 0; i < FLOODERS; i++) flooders.push(await client());
    const linesBefore = lines.length;
    const run = chat(chatter, 'agent:main:flood-bystander');
    for (const flooder of flooders) {
      for (let i = 0; i < MAX_CONSECUTIVE_ERRORS + 50; i++) flooder.sendRaw(JSON.stringify({ type: 'req', id: `f${i}`, method: `no.such.method.${i}` }));
    }
    for (const flooder of flooders) {
      assert.deepEqual(await flooder.waitClosed(WAIT_MS), { code: 1008, reason: 'too many errors' });
      const errors = flooder.frames.filter((f) => f.type === 'res' && !f.ok);
      assert.equal(errors.length, MAX_CONSECUTIVE_ERRORS, 'closed at the 100th error; nothing answered after');
    }
    const { runId, terminal } = await run;
    assert.equal(terminal.payload.state, 'final');
    assert.equal(terminal.payload.message.content[0].text.trim(), REPLY_TEXT);
    assert.deepEqual(chatter.seqErrors, []);
    assert.ok(runEvents(chatter, runId).length > 4);
    assert.equal(chatter.closeInfo, undefined);
    // 20 × 100 rejections: logged 1st, 2nd, 4th … time of each kind, not once each.
    const floodLines = lines.slice(linesBefore).filter((line) => line.includes('error budget exhausted'));
    assert.ok(floodLines.length >= 1 && floodLines.length <= Math.log2(FLOODERS) + 1, `${floodLines.length} lines`);
  });

  it('closes a client that keeps over 50 requests per second for 5 s, while another chats', { timeout: 30_000 }, async () => {
    const chatter = await client();
    const flooder = await client();
    const started = Date.now();
    let sent = 0;
    // Valid, successful requests: only the rate can close this client.
    const timer = setInterval(() => {
      for (let i = 0; i < 20; i++) flooder.sendRaw(JSON.stringify({ type: 'req', id: `r${sent++}`, method: 'health', params: {} }));
    }, 50);
    try {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await chat(chatter, 'agent:main:rate-bystander', `message ${i}`));
      const closed = await flooder.waitClosed(RATE_FLOOD_LIMIT_MS);
      assert.deepEqual(closed, { code: 1008, reason: 'too many errors' });
      assert.ok(Date.now() - started >= 4_000, 'the rate must hold for the sustained window first');
      for (const run of runs) assert.equal(run.terminal.payload.state, 'final');
      assert.equal(flooder.frames.filter((f) => f.type === 'res' && !f.ok).length, 0, 'every flood request succeeded');
      assert.equal(chatter.closeInfo, undefined);
      assert.deepEqual(chatter.seqErrors, []);
    } finally {
      clearInterval(timer);
    }
  });
});

describe('slow consumer', () => {
  /** Chunks of one long reply: 160 × 640 B, so chat/agent frames grow to ~100 KB. */
  const CHUNKS = 160;
  const CHUNK_CHARS = 640;
  /** Deltas are coalesced (issue 13 item 7), so one run no longer fills the kernel buffers: send runs until the cut. */
  const MAX_RUNS = 40;
  let stack: Stack;

  before(async () => {
    stack = await startStack({ gateway: { maxBufferedBytes: MAX_BUFFERED_BYTES } });
  });
  after(() => stack.close());

  it('closes a client that stopped reading with 1013 while the others on the session get every event', { timeout: 120_000 }, async () => {
    const chunks = Array.from({ length: CHUNKS }, (_, i) => `${String(i).padStart(4, '0')}${'z'.repeat(CHUNK_CHARS - 4)}`);
    const stalled = await stack.client();
    const readers = [await stack.client(), await stack.client()];
    stalled.ws.pause();
    let runs = 0;
    let firstRunId: string | undefined;
    // The stalled socket would learn of its close only by reading; the gateway's count of authenticated sockets tells.
    const stalledOpen = (): boolean => stack.gateway.pincer.channelStats()!.authenticated === 1 + readers.length;
    while (stalledOpen() && runs < MAX_RUNS) {
      // Paced like a real model so that readers that do read keep up.
      stack.fake.enqueue({ text: chunks, chunkDelayMs: 1 });
      const sent = chat(readers[0]!, 'main', 'long answer please');
      await Promise.race([sent, readers[0]!.closed.then((info) => { throw new Error(`reader closed ${JSON.stringify(info)} after ${readers[0]!.events.length} events`); })]);
      const { runId, terminal } = await sent;
      firstRunId ??= runId;
      runs++;
      assert.equal(terminal.payload.state, 'final');

      for (const reader of readers) {
        await reader.waitFor((f) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId && f.payload?.state === 'final', WAIT_MS);
        assert.deepEqual(reader.seqErrors, []);
        const deltas = runEvents(reader, runId).filter((e) => e.event === 'chat' && e.payload.state === 'delta');
        // Deltas are coalesced per run: every chunk arrives, in order, each delta cumulative.
        let sofar = '';
        for (const delta of deltas) {
          sofar += delta.payload.deltaText;
          assert.equal(delta.payload.message.content[0].text, sofar, 'cumulative');
        }
        assert.equal(sofar, chunks.join(''), 'every chunk, in order');
        assert.equal(reader.closeInfo, undefined);
      }
    }
    stalled.ws.resume();
    assert.deepEqual(await stalled.waitClosed(WAIT_MS), { code: 1013, reason: 'slow consumer' });
    const seen = stalled.events.filter((e) => e.event === 'chat' && e.payload?.state === 'final').length;
    assert.ok(seen < runs, `the stalled client missed part of the ${runs} runs (saw ${seen} finals)`);
    console.log(`slow consumer: cut 1013 during run ${runs}; the readers got every event of all ${runs}`);

    // Nothing is lost: the reply is in the history for a fresh connection.
    const again = await stack.client();
    const history = await again.request('chat.history', { sessionKey: 'main' });
    const last = history.payload.messages.at(-1);
    assert.equal(last.role, 'assistant');
    assert.equal(last.content[0].text, chunks.join(''));
    assert.ok(firstRunId !== undefined);
  });
});
