/**
 * A reply larger than policy.maxPayload: its late cumulative deltas cannot be
 * sent, but the run's end still reaches the client with the reply cut and
 * flagged `truncated: true` (issue 13 item 6), the whole reply is stored, and
 * chat.history and chat.message.get read it back.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FINAL_REPLY_MAX_BYTES } from '../../../src/channels/openclaw/fan-out.js';
import { okPayload, startStack, waitTerminal, type Stack } from './e2e-setup.js';

const MAX_PAYLOAD_BYTES = 16 * 1024;
/** 40 chunks of 1 KiB: the reply is 2.5 times maxPayload. */
const CHUNKS = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(1020)}`);

let stack: Stack;

before(async () => {
  stack = await startStack({ gateway: { maxPayloadBytes: MAX_PAYLOAD_BYTES } });
});
after(async () => {
  await stack?.close();
});

describe('a reply larger than maxPayload', () => {
  it('still ends with one final event and a lifecycle end, and the whole reply is stored', async () => {
    const client = await stack.client();
    stack.fake.enqueue({ text: CHUNKS });
    const sessionKey = `big-${randomUUID()}`;
    const runId = randomUUID();
    okPayload(await client.request('chat.send', { sessionKey, message: 'a long one, please', idempotencyKey: runId }));

    const final = await waitTerminal(client, runId);
    assert.equal(final.payload.state, 'final');
    const reply = CHUNKS.join('');
    assert.equal(final.payload.message.truncated, true, 'the text did not fit whole');
    const cut: string = final.payload.message.content[0].text;
    assert.ok(cut.length > MAX_PAYLOAD_BYTES / 2 && reply.startsWith(cut), `the final carries the start of the reply (${cut.length} chars)`);
    const ends = client.events.filter((e) => e.event === 'agent' && e.payload?.runId === runId && e.payload?.data?.phase === 'end');
    assert.equal(ends.length, 1);
    assert.equal(ends[0]!.payload.data.terminalReply.truncated, true);
    assert.ok(reply.startsWith(ends[0]!.payload.data.terminalReply.text));
    for (const event of client.events) assert.ok(Buffer.byteLength(JSON.stringify(event)) <= MAX_PAYLOAD_BYTES);
    const terminals = client.events.filter((e) => e.event === 'chat' && e.payload?.runId === runId && e.payload?.state !== 'delta');
    assert.equal(terminals.length, 1);
    assert.deepEqual(client.seqErrors, []);

    // chat.history carries it cut; chat.message.get reads the rest, page by page.
    const history = okPayload(await client.request('chat.history', { sessionKey }));
    const row = history.messages.at(-1);
    assert.equal(row.truncated, true);
    assert.ok(reply.startsWith(row.content[0].text));
    let read = '';
    for (let offset = 0, pages = 0; ; pages++) {
      assert.ok(pages < 10, 'bounded paging');
      const page = okPayload(await client.request('chat.message.get', { sessionKey, messageId: row.id, offset, maxBytes: 8 * 1024 }));
      read += page.message.content[0].text;
      offset = page.nextOffset;
      if (!page.hasMore) break;
    }
    assert.equal(read, reply);

    // And the session file holds it whole.
    const dir = join(stack.gateway.stateDir, 'sessions');
    const lines = (await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.jsonl')).map((f) => readFile(join(dir, f), 'utf8'))))
      .join('\n')
      .split('\n')
      .filter((line) => line.includes(`"runId":"${runId}"`) && line.includes('"assistant"'));
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.includes(CHUNKS.join('')), 'the stored reply is complete');
  });
});

describe('a reply past the cap on a run end, within maxPayload', () => {
  /** 300 chunks of 5 KiB: 1.5 MiB, under the default 4 MiB maxPayload and over FINAL_REPLY_MAX_BYTES. */
  const LARGE_CHUNKS = Array.from({ length: 300 }, (_, i) => `${String(i).padStart(4, '0')}${'y'.repeat(5 * 1024 - 4)}`);
  let big: Stack;
  before(async () => {
    big = await startStack();
  });
  after(async () => {
    await big?.close();
  });

  it('ends with the reply cut to the cap and flagged, and the whole reply is read back', async () => {
    const client = await big.client();
    big.fake.enqueue({ text: LARGE_CHUNKS });
    const sessionKey = `capped-${randomUUID()}`;
    const runId = randomUUID();
    okPayload(await client.request('chat.send', { sessionKey, message: 'a long one, please', idempotencyKey: runId }));

    const final = await waitTerminal(client, runId);
    assert.equal(final.payload.state, 'final');
    const reply = LARGE_CHUNKS.join('');
    assert.equal(final.payload.message.truncated, true, 'cut though it fits maxPayload');
    const cut: string = final.payload.message.content[0].text;
    assert.ok(cut.length > FINAL_REPLY_MAX_BYTES / 2 && cut.length <= FINAL_REPLY_MAX_BYTES, `cut to the cap (${cut.length} chars)`);
    assert.ok(reply.startsWith(cut), 'the start of the reply');
    const end = client.events.find((e) => e.event === 'agent' && e.payload?.runId === runId && e.payload?.data?.phase === 'end');
    assert.equal(end?.payload.data.terminalReply.truncated, true);
    assert.ok(end!.payload.data.terminalReply.text.length <= FINAL_REPLY_MAX_BYTES && reply.startsWith(end!.payload.data.terminalReply.text));

    const history = okPayload(await client.request('chat.history', { sessionKey }));
    const row = history.messages.at(-1);
    let read = '';
    for (let offset = 0, pages = 0; ; pages++) {
      assert.ok(pages < 20, 'bounded paging');
      const page = okPayload(await client.request('chat.message.get', { sessionKey, messageId: row.id, offset }));
      read += page.message.content[0].text;
      offset = page.nextOffset;
      if (!page.hasMore) break;
    }
    assert.ok(read === reply, 'chat.message.get reads the whole reply');
  });
});
