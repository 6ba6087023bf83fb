/**
 * A reply larger than policy.maxPayload: its cumulative deltas cannot be
 * sent, but the run's end still reaches the client (without the text), and
 * the whole reply is stored.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
    assert.equal(final.payload.message, undefined, 'the text did not fit');
    const ends = client.events.filter((e) => e.event === 'agent' && e.payload?.runId === runId && e.payload?.data?.phase === 'end');
    assert.equal(ends.length, 1);
    assert.equal(ends[0]!.payload.data.terminalReply, undefined);
    const terminals = client.events.filter((e) => e.event === 'chat' && e.payload?.runId === runId && e.payload?.state !== 'delta');
    assert.equal(terminals.length, 1);
    assert.deepEqual(client.seqErrors, []);

    // chat.history cannot carry a message over maxPayload either, so read the session file itself.
    const dir = join(stack.gateway.stateDir, 'sessions');
    const lines = (await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.jsonl')).map((f) => readFile(join(dir, f), 'utf8'))))
      .join('\n')
      .split('\n')
      .filter((line) => line.includes(`"runId":"${runId}"`) && line.includes('"assistant"'));
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.includes(CHUNKS.join('')), 'the stored reply is complete');
  });
});
