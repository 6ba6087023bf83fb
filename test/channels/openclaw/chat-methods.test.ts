import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { okPayload, REPLY_TEXT, sendAndFinish, runEvents, settle, startStack, waitTerminal, WAIT_MS, type Stack } from './e2e-setup.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';

/** A 1x1 PNG. */
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

let stack: Stack;
let client: ProtocolClient;

before(async () => {
  stack = await startStack();
  client = await stack.client();
});
after(async () => {
  await stack?.close();
});

function slowReply(): void {
  stack.fake.enqueue({ text: Array.from({ length: 30 }, (_, i) => `w${i} `), chunkDelayMs: 30 });
}

describe('chat.history', () => {
  it('answers an unknown session with an empty page and the canonical key', async () => {
    const id = randomUUID();
    const payload = okPayload(await client.request('chat.history', { sessionKey: id }));
    assert.deepEqual(payload, { sessionKey: `agent:main:${id}`, totalMessages: 0, messages: [], hasMore: false });
  });

  it('returns user and assistant rows as block arrays under the key the events use (items 25, 26, 31)', async () => {
    const id = `History-${randomUUID()}`;
    const runId = await sendAndFinish(client, id, 'Hi there, this is the history test.');
    const eventKeys = new Set(runEvents(client, runId).map((e) => e.payload.sessionKey));
    const payload = okPayload(await client.request('chat.history', { sessionKey: id, limit: 50 }));
    assert.deepEqual([...eventKeys], [payload.sessionKey]);
    assert.equal(payload.sessionKey, `agent:main:${id.toLowerCase()}`);
    assert.equal(typeof payload.sessionId, 'string');
    assert.equal(payload.totalMessages, 2);
    assert.equal(payload.hasMore, false);
    const [user, assistant] = payload.messages;
    assert.equal(user.role, 'user');
    assert.deepEqual(user.content, [{ type: 'text', text: 'Hi there, this is the history test.' }]);
    assert.equal(user.idempotencyKey, `${runId}:user`);
    assert.deepEqual(user.__openclaw, { id: user.id, seq: 1, idempotencyKey: `${runId}:user` });
    assert.ok(Math.abs(user.timestamp - Date.now()) < 10_000);
    assert.equal(assistant.role, 'assistant');
    assert.deepEqual(assistant.content, [{ type: 'text', text: REPLY_TEXT }]);
    assert.equal(assistant.stopReason, 'stop');
    assert.equal(assistant.model, 'fake-model');
    assert.deepEqual(Object.keys(assistant.usage).sort(), ['cacheRead', 'cacheWrite', 'input', 'output', 'totalTokens']);
    assert.equal(assistant.__openclaw.runId, runId);
    assert.equal(assistant.__openclaw.seq, 2);
  });

  it('already holds the assistant message when final is emitted (item 30)', async () => {
    const id = randomUUID();
    const runId = randomUUID();
    okPayload(await client.request('chat.send', { sessionKey: id, message: 'quick', idempotencyKey: runId }));
    await waitTerminal(client, runId);
    const payload = okPayload(await client.request('chat.history', { sessionKey: id }));
    assert.equal(payload.messages.at(-1).role, 'assistant');
    assert.equal(payload.messages.at(-1).__openclaw.runId, runId);
  });

  it('returns the newest messages within limit and cuts text to maxChars', async () => {
    const id = randomUUID();
    await sendAndFinish(client, id, 'one');
    await sendAndFinish(client, id, 'two');
    const page = okPayload(await client.request('chat.history', { sessionKey: id, limit: 1, maxChars: 5 }));
    assert.equal(page.messages.length, 1);
    assert.equal(page.hasMore, true);
    assert.equal(page.totalMessages, 4);
    assert.equal(page.messages[0].role, 'assistant');
    assert.equal(page.messages[0].content[0].text, REPLY_TEXT.slice(0, 5));
    assert.equal(page.messages[0].__openclaw.seq, 4);
  });

  it('refuses a limit outside 1..1000', async () => {
    for (const limit of [0, 1001, 2.5]) {
      const res = await client.request('chat.history', { sessionKey: 'main', limit });
      assert.equal(res.ok, false);
      assert.match(res.error!.message, /^invalid chat\.history params: /);
    }
  });

  it('needs a sessionKey', async () => {
    const res = await client.request('chat.history', {});
    assert.equal(res.error?.message, "invalid chat.history params: must have required property 'sessionKey'");
  });
});

describe('chat.history under a small maxPayload', () => {
  let small: Stack;
  before(async () => {
    small = await startStack({ gateway: { maxPayloadBytes: 64 * 1024 } });
  });
  after(async () => {
    await small?.close();
  });

  it('drops the oldest messages to stay under maxPayload and sets hasMore', async () => {
    const c = await small.client();
    const id = randomUUID();
    for (let i = 0; i < 5; i += 1) {
      const runId = randomUUID();
      okPayload(await c.request('chat.send', { sessionKey: id, message: `${i}:${'x'.repeat(20_000)}`, idempotencyKey: runId }));
      await waitTerminal(c, runId);
    }
    const before = c.frames.length;
    const payload = okPayload(await c.request('chat.history', { sessionKey: id, limit: 100 }));
    assert.equal(payload.hasMore, true);
    assert.equal(payload.totalMessages, 10);
    assert.ok(payload.messages.length >= 2 && payload.messages.length < 10);
    assert.equal(payload.messages.at(-1).role, 'assistant');
    assert.equal(payload.messages.at(-2).content[0].text.slice(0, 2), '4:');
    const res = c.frames.slice(before).find((f) => f.type === 'res');
    assert.ok(Buffer.byteLength(JSON.stringify(res)) <= 64 * 1024);
  });
});

describe('chat.send', () => {
  it('acks {runId: idempotencyKey, status:"started"} before any event of the run (item 24)', async () => {
    const runId = randomUUID();
    const res = await client.request('chat.send', { sessionKey: 'main', message: 'order check', idempotencyKey: runId });
    assert.deepEqual(okPayload(res), { runId, status: 'started' });
    await waitTerminal(client, runId);
    const resIndex = client.frames.indexOf(res);
    const firstEvent = client.frames.findIndex((f) => f.type === 'event' && f.payload?.runId === runId);
    assert.ok(resIndex >= 0 && firstEvent > resIndex);
  });

  it('refuses a missing message with OpenClaw wording (item 23)', async () => {
    const res = await client.request('chat.send', { sessionKey: 'main' });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.equal(res.error?.message, "invalid chat.send params: must have required property 'message'");
  });

  it('generates a runId when idempotencyKey is missing', async () => {
    const payload = okPayload(await client.request('chat.send', { sessionKey: 'main', message: 'no key' }));
    assert.match(payload.runId, /^[0-9a-f-]{36}$/);
    assert.equal(payload.status, 'started');
    await waitTerminal(client, payload.runId);
  });

  it('accepts WebClaw params with any thinking level', async () => {
    for (const thinking of ['low', 'medium', 'high', 'off', 'xhigh', 'turbo']) {
      const runId = randomUUID();
      const payload = okPayload(
        await client.request('chat.send', {
          sessionKey: 'main',
          message: `thinking ${thinking}`,
          thinking,
          attachments: [],
          deliver: true,
          timeoutMs: 120000,
          idempotencyKey: runId,
        }),
      );
      assert.deepEqual(payload, { runId, status: 'started' });
      assert.equal((await waitTerminal(client, runId)).payload.state, 'final');
    }
  });

  it('stores an image attachment as an image block before the text (item 32)', async () => {
    const id = randomUUID();
    const runId = randomUUID();
    okPayload(
      await client.request('chat.send', {
        sessionKey: id,
        message: 'what is this?',
        attachments: [{ mimeType: 'image/png', content: PNG_BASE64 }],
        idempotencyKey: runId,
      }),
    );
    await waitTerminal(client, runId);
    const history = okPayload(await client.request('chat.history', { sessionKey: id }));
    assert.deepEqual(history.messages[0].content, [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
      { type: 'text', text: 'what is this?' },
    ]);
  });

  it('accepts an image-only message and a data URL', async () => {
    const runId = randomUUID();
    const payload = okPayload(
      await client.request('chat.send', {
        sessionKey: randomUUID(),
        message: '',
        attachments: [{ content: `data:image/png;base64,${PNG_BASE64}` }],
        idempotencyKey: runId,
      }),
    );
    assert.equal(payload.status, 'started');
    await waitTerminal(client, runId);
  });

  it('refuses empty messages, non-image and non-base64 attachments, and overlong keys', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ sessionKey: 'main', message: '' }, /message must not be empty/],
      [{ sessionKey: 'main', message: 'x', attachments: [{ mimeType: 'application/pdf', content: 'AAAA' }] }, /only image attachments/],
      [{ sessionKey: 'main', message: 'x', attachments: [{ mimeType: 'image/png', content: 'not base64!' }] }, /must be base64/],
      [{ sessionKey: 'k'.repeat(513), message: 'x' }, /^invalid chat\.send params: /],
      [{ sessionKey: 'main', message: 42 }, /^invalid chat\.send params: at \/message: must be string$/],
    ];
    for (const [params, pattern] of cases) {
      const res = await client.request('chat.send', params);
      assert.equal(res.ok, false, JSON.stringify(params).slice(0, 80));
      assert.equal(res.error?.code, 'INVALID_REQUEST');
      assert.match(res.error!.message, pattern);
    }
  });

  it('needs write scope', async () => {
    const reader = await stack.client({ scopes: ['operator.read'] });
    const res = await reader.request('chat.send', { sessionKey: 'main', message: 'x' });
    assert.equal(res.error?.code, 'FORBIDDEN');
  });
});

describe('chat.send idempotency', () => {
  it('answers a repeat of a finished run with status ok, no events and no new rows (item 33)', async () => {
    const id = randomUUID();
    const runId = await sendAndFinish(client, id, 'once only');
    const requests = stack.fake.requests.length;
    const eventsBefore = runEvents(client, runId).length;
    const again = okPayload(await client.request('chat.send', { sessionKey: id, message: 'once only', idempotencyKey: runId }));
    assert.deepEqual(again, { runId, status: 'ok' });
    await settle();
    assert.equal(runEvents(client, runId).length, eventsBefore);
    assert.equal(stack.fake.requests.length, requests);
    const history = okPayload(await client.request('chat.history', { sessionKey: id }));
    assert.equal(history.totalMessages, 2);
  });

  it('starts one run for ten concurrent sends with one key (item 34)', async () => {
    const id = randomUUID();
    const runId = randomUUID();
    const requests = stack.fake.requests.length;
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => client.request('chat.send', { sessionKey: id, message: 'concurrent', idempotencyKey: runId })),
    );
    const payloads = replies.map(okPayload);
    for (const p of payloads) assert.equal(p.runId, runId);
    assert.equal(payloads.filter((p) => p.status === 'started').length, 1);
    await waitTerminal(client, runId);
    await settle();
    assert.equal(stack.fake.requests.length, requests + 1);
    assert.equal(runEvents(client, runId).filter((e) => e.event === 'chat' && e.payload.state === 'final').length, 1);
    const history = okPayload(await client.request('chat.history', { sessionKey: id }));
    assert.equal(history.messages.filter((m: any) => m.role === 'user').length, 1);
  });

  it('recognises a key resent on a new connection while the run goes on', async () => {
    const id = randomUUID();
    const runId = randomUUID();
    slowReply();
    const first = await stack.client();
    okPayload(await first.request('chat.send', { sessionKey: id, message: 'survive reconnect', idempotencyKey: runId }));
    await first.close();
    const second = await stack.client();
    const again = okPayload(await second.request('chat.send', { sessionKey: id, message: 'survive reconnect', idempotencyKey: runId }));
    assert.deepEqual(again, { runId, status: 'in_flight' });
    const terminal = await waitTerminal(second, runId, 10_000);
    assert.equal(terminal.payload.state, 'final');
    const done = okPayload(await second.request('chat.send', { sessionKey: id, message: 'survive reconnect', idempotencyKey: runId }));
    assert.deepEqual(done, { runId, status: 'ok' });
    const history = okPayload(await second.request('chat.history', { sessionKey: id }));
    assert.equal(history.messages.filter((m: any) => m.role === 'user').length, 1);
  });

  it('starts two runs for two keys with the same text', async () => {
    const id = randomUUID();
    const a = await sendAndFinish(client, id, 'same text');
    const b = await sendAndFinish(client, id, 'same text');
    assert.notEqual(a, b);
    const history = okPayload(await client.request('chat.history', { sessionKey: id }));
    assert.equal(history.messages.filter((m: any) => m.role === 'user').length, 2);
  });

  it('refuses a key reused with a different message', async () => {
    const runId = await sendAndFinish(client, 'main', 'original');
    const res = await client.request('chat.send', { sessionKey: 'main', message: 'changed', idempotencyKey: runId });
    assert.equal(res.ok, false);
    assert.equal(res.error?.details?.code, 'IDEMPOTENCY_CONFLICT');
  });
});

describe('chat.abort', () => {
  it('answers an idle session with aborted:false (item 38)', async () => {
    const payload = okPayload(await client.request('chat.abort', { sessionKey: randomUUID() }));
    assert.deepEqual(payload, { ok: true, aborted: false, runIds: [] });
  });

  it('aborts a streaming run: chat aborted, lifecycle end aborted:true, nothing after (items 28, 38)', async () => {
    const id = randomUUID();
    const runId = randomUUID();
    slowReply();
    okPayload(await client.request('chat.send', { sessionKey: id, message: 'long', idempotencyKey: runId }));
    await client.waitFor((f) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId, WAIT_MS, 'a delta');
    const other = okPayload(await client.request('chat.abort', { sessionKey: id, runId: 'some-other-run' }));
    assert.deepEqual(other, { ok: true, aborted: false, runIds: [] });
    const payload = okPayload(await client.request('chat.abort', { sessionKey: id, runId }));
    assert.deepEqual(payload, { ok: true, aborted: true, runIds: [runId] });
    const terminal = await waitTerminal(client, runId);
    assert.equal(terminal.payload.state, 'aborted');
    assert.equal(terminal.payload.stopReason, 'rpc');
    await settle(200);
    const events = runEvents(client, runId);
    const lifecycleEnd = events.find((e) => e.event === 'agent' && e.payload.stream === 'lifecycle' && e.payload.data.phase === 'end');
    assert.equal(lifecycleEnd?.payload.data.aborted, true);
    assert.equal(events.at(-1), terminal);
    assert.equal(events.filter((e) => e.event === 'chat' && ['final', 'aborted', 'error'].includes(e.payload.state)).length, 1);
    await stack.fake.waitFor((f) => f.stats.inFlight === 0, WAIT_MS);
  });

  it('needs a sessionKey', async () => {
    const res = await client.request('chat.abort', {});
    assert.equal(res.error?.message, "invalid chat.abort params: must have required property 'sessionKey'");
  });
});

describe('chat.inject', () => {
  it('appends an assistant message and announces it as one chat final', async () => {
    const id = randomUUID();
    const payload = okPayload(await client.request('chat.inject', { sessionKey: id, message: 'Injected note.', label: 'capture' }));
    assert.equal(payload.ok, true);
    assert.match(payload.messageId, /^[0-9a-f-]{36}$/);
    const frame = await client.waitFor(
      (f) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === `inject-${payload.messageId}`,
      WAIT_MS,
      'inject event',
    );
    const event = (frame as any).payload;
    assert.equal(event.state, 'final');
    assert.equal(event.seq, 0);
    assert.equal(event.sessionKey, `agent:main:${id}`);
    assert.deepEqual(event.message.content, [{ type: 'text', text: '[capture]\n\nInjected note.' }]);
    await settle();
    assert.equal(runEvents(client, `inject-${payload.messageId}`).length, 1);
    const history = okPayload(await client.request('chat.history', { sessionKey: id }));
    assert.equal(history.messages.length, 1);
    assert.equal(history.messages[0].role, 'assistant');
    assert.equal(history.messages[0].id, payload.messageId);
  });

  it('injects plain text without a label', async () => {
    const id = randomUUID();
    okPayload(await client.request('chat.inject', { sessionKey: id, message: 'plain' }));
    const history = okPayload(await client.request('chat.history', { sessionKey: id }));
    assert.deepEqual(history.messages[0].content, [{ type: 'text', text: 'plain' }]);
  });
});
