/**
 * Issue 13, item 7: a stream costs each watcher O(reply). A model bursts a
 * 64 KB reply in 2,000 chunks to three actively reading watchers, three
 * times. Each watcher receives at most 20 times the reply in event bytes
 * (every delta used to carry the whole text so far: about 2,000 times), is
 * never cut, and still gets everything: chat deltas stay cumulative, agent
 * `assistant` deltas join into the reply, the first delta is the model's
 * first chunk alone, and one final ends each run.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { runEvents, startStack, waitTerminal, type Stack } from '../channels/openclaw/e2e-setup.js';

const CHUNKS = 2000;
const CHUNK_BYTES = 32;
const WATCHERS = 3;
const TRIES = 3;
const MAX_BYTES_PER_REPLY_BYTE = 20;
const WAIT_MS = 30_000;

describe('a bursting model streamed to several watchers', { timeout: 120_000 }, () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it(`costs each watcher at most ${MAX_BYTES_PER_REPLY_BYTE}× the reply and cuts no healthy reader`, async () => {
    const watchers: ProtocolClient[] = [];
    for (let i = 0; i < WATCHERS; i++) watchers.push(await stack.client());
    const ratios: number[] = [];
    for (let attempt = 0; attempt < TRIES; attempt++) {
      const chunks = Array.from({ length: CHUNKS }, (_, i) => `${attempt}:${i} `.padEnd(CHUNK_BYTES, 'x'));
      const reply = chunks.join('');
      stack.fake.enqueue({ text: chunks });
      const bytesBefore = watchers.map((w) => w.eventBytes);
      const runId = randomUUID();
      const sent = await watchers[0]!.request('chat.send', { sessionKey: 'agent:main:stream-cost', message: 'burst', idempotencyKey: runId });
      assert.equal(sent.ok, true, JSON.stringify(sent.error));
      for (const [i, watcher] of watchers.entries()) {
        const terminal = await waitTerminal(watcher, runId, WAIT_MS);
        assert.equal(terminal.payload.state, 'final');
        assert.equal(terminal.payload.message.content[0].text, reply);
        assert.equal(watcher.closeInfo, undefined, 'never cut');
        assert.deepEqual(watcher.seqErrors, []);
        const events = runEvents(watcher, runId);
        const deltas = events.filter((e) => e.event === 'chat' && e.payload.state === 'delta');
        assert.equal(deltas[0]!.payload.deltaText, chunks[0], 'the first chunk leaves alone, at once');
        let sofar = '';
        for (const delta of deltas) {
          sofar += delta.payload.deltaText;
          assert.equal(delta.payload.message.content[0].text, sofar, 'chat deltas are cumulative');
        }
        assert.equal(sofar, reply);
        const assistant = events.filter((e) => e.event === 'agent' && e.payload.stream === 'assistant');
        assert.equal(assistant.map((e) => e.payload.data.delta).join(''), reply, 'agent deltas are incremental and complete');
        assert.equal(assistant.at(-1)!.payload.data.text, reply);
        assert.equal(events.filter((e) => e.event === 'chat' && e.payload.state !== 'delta').length, 1);
        ratios.push((watcher.eventBytes - bytesBefore[i]!) / Buffer.byteLength(reply));
      }
    }
    const worst = Math.max(...ratios);
    console.log(`stream cost: ${CHUNKS} chunks, ${(CHUNKS * CHUNK_BYTES) / 1000} KB reply, ${WATCHERS} watchers × ${TRIES} runs: ` +
      `${worst.toFixed(1)}× the reply per watcher at most (median ${ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!.toFixed(1)}×), no reader cut`);
    assert.ok(worst <= MAX_BYTES_PER_REPLY_BYTE, `a watcher received ${worst.toFixed(1)}× the reply`);
  });
});
