/**
 * Issue 13, item 8: a client bug in one frame does not end its stream. After
 * `connect`, an unreadable frame (bad JSON, no usable id) is dropped with a
 * sampled log line and the socket stays open, still receiving the run it
 * watches; a frame with a readable id gets exactly one error res; a flood of
 * unreadable frames still exhausts the consecutive-error budget (1008).
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { capturingLogger } from '../security/security-helpers.js';
import { runEvents, settle, waitTerminal } from '../channels/openclaw/e2e-setup.js';

const WAIT_MS = 10_000;
const CHUNKS = Array.from({ length: 40 }, (_, i) => `word${i} `);
const CHUNK_DELAY_MS = 10;
const MAX_CONSECUTIVE_ERRORS = 100;
const UNREADABLE_FRAMES = ['not json', '{"type":"req"', '[1,2,3]', '"text"', 'null', '42', '', '{}', JSON.stringify({ type: 'req', id: 7, method: 'health' }), JSON.stringify({ type: 'req', id: 'i'.repeat(257), method: 'health' })];

describe('frame errors after connect', () => {
  let fake: FakeModelServer;
  let gateway: StartedGateway;
  const { logger, lines } = capturingLogger('warn');
  const clients: ProtocolClient[] = [];

  before(async () => {
    fake = await startFakeModelServer({ defaultReply: { text: CHUNKS, chunkDelayMs: CHUNK_DELAY_MS } });
    gateway = await startGateway({
      logger,
      overrides: { provider: { kind: 'openai', baseUrl: fake.url, apiKey: 'test-key', model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 } },
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
    assert.equal((await c.connect({ token: gateway.token })).ok, true);
    return c;
  }

  it('drops unreadable frames mid-stream, keeps the socket and every event of the run', async () => {
    const watcher = await client();
    const linesBefore = lines.length;
    const runId = randomUUID();
    const sent = await watcher.request('chat.send', { sessionKey: 'agent:main:frame-errors', message: 'hi', idempotencyKey: runId });
    assert.equal(sent.ok, true, JSON.stringify(sent.error));
    await watcher.waitFor((f) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId, WAIT_MS, 'first delta');
    for (const text of UNREADABLE_FRAMES) watcher.sendRaw(text);
    // A readable id is answered once, even when the rest of the frame is nonsense.
    watcher.sendRaw(JSON.stringify({ type: 'req', id: 'half', method: 42 }));
    const terminal = await waitTerminal(watcher, runId, WAIT_MS);
    assert.equal(terminal.payload.state, 'final');
    assert.equal(terminal.payload.message.content[0].text, CHUNKS.join(''));
    assert.equal(watcher.closeInfo, undefined, 'still open');
    assert.deepEqual(watcher.seqErrors, []);
    assert.equal((await watcher.request('health', {})).ok, true, 'still answered');
    await settle();
    assert.equal(watcher.responsesFor('half').length, 1);
    assert.equal(watcher.responsesFor('half')[0]!.error?.code, 'INVALID_REQUEST');
    const resFrames = watcher.frames.filter((f) => f.type === 'res');
    // connect, chat.send, half, health: nothing for the unreadable frames.
    assert.equal(resFrames.length, 4, JSON.stringify(resFrames.map((f) => f.id)));
    const dropLines = lines.slice(linesBefore).filter((line) => line.includes('unreadable frame dropped'));
    assert.ok(dropLines.length >= 1 && dropLines.length <= Math.log2(UNREADABLE_FRAMES.length) + 1, `${dropLines.length} log lines`);
    const deltas = runEvents(watcher, runId).filter((e) => e.event === 'chat' && e.payload.state === 'delta');
    assert.ok(deltas.length >= 1);
    console.log(`frame errors mid-stream: ${UNREADABLE_FRAMES.length} unreadable frames dropped, ${dropLines.length} log lines, run ended final, socket open`);
  });

  it('still closes 1008 on a flood of unreadable frames, and a valid request resets the streak', async () => {
    const steady = await client();
    for (let i = 0; i < MAX_CONSECUTIVE_ERRORS - 1; i++) steady.sendRaw('not json');
    assert.equal((await steady.request('health', {})).ok, true, 'the 99 errors did not close it');
    for (let i = 0; i < MAX_CONSECUTIVE_ERRORS - 1; i++) steady.sendRaw('{}');
    assert.equal((await steady.request('health', {})).ok, true);

    const flooder = await client();
    for (let i = 0; i < MAX_CONSECUTIVE_ERRORS + 20; i++) flooder.sendRaw(i % 2 === 1 ? 'not json' : JSON.stringify({ type: 'req', id: `e${i}`, method: 'no.such' }));
    assert.deepEqual(await flooder.waitClosed(WAIT_MS), { code: 1008, reason: 'too many errors' });
    const answered = flooder.frames.filter((f) => f.type === 'res' && !f.ok).length;
    assert.equal(answered, MAX_CONSECUTIVE_ERRORS / 2, 'the 100th error (an unreadable one) closed it');
    assert.equal(steady.closeInfo, undefined);
  });
});
