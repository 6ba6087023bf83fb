import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { okPayload, sendAndFinish, settle, startStack, waitTerminal, WAIT_MS, type Stack } from './e2e-setup.js';
import type { ProtocolClient } from '../../helpers/protocol-client.js';

let stack: Stack;
let client: ProtocolClient;

before(async () => {
  stack = await startStack();
  client = await stack.client();
});
after(async () => {
  await stack?.close();
});

describe('sessions.patch', () => {
  it('creates a session for a new UUID key and returns its canonical key (item 40)', async () => {
    const id = randomUUID();
    const payload = okPayload(await client.request('sessions.patch', { key: id }));
    assert.equal(payload.ok, true);
    assert.equal(payload.key, `agent:main:${id}`);
    assert.equal(typeof payload.entry.sessionId, 'string');
    assert.ok(payload.entry.sessionId.length > 0);
    assert.equal(typeof payload.entry.createdAt, 'number');
    assert.equal(typeof payload.entry.updatedAt, 'number');
    const resolved = okPayload(await client.request('sessions.resolve', { key: id }));
    assert.equal(resolved.key, `agent:main:${id}`);
  });

  it('sets a label that sessions.list returns, and null clears it', async () => {
    const id = randomUUID();
    const labelled = okPayload(await client.request('sessions.patch', { key: id, label: 'Groceries' }));
    assert.equal(labelled.entry.label, 'Groceries');
    let list = okPayload(await client.request('sessions.list', {}));
    assert.equal(list.sessions.find((s: any) => s.key === `agent:main:${id}`)?.label, 'Groceries');
    okPayload(await client.request('sessions.patch', { key: `agent:main:${id}`, label: null }));
    list = okPayload(await client.request('sessions.list', {}));
    assert.equal(list.sessions.find((s: any) => s.key === `agent:main:${id}`)?.label, null);
  });

  it('refuses a label over 100 characters', async () => {
    const res = await client.request('sessions.patch', { key: randomUUID(), label: 'x'.repeat(101) });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.match(res.error!.message, /^invalid sessions\.patch params: /);
  });

  it('refuses an invalid key', async () => {
    const res = await client.request('sessions.patch', { key: '../etc/passwd' });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.match(res.error!.message, /invalid session key/);
  });

  it('needs write scope', async () => {
    const reader = await stack.client({ scopes: ['operator.read'] });
    const res = await reader.request('sessions.patch', { key: randomUUID() });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'FORBIDDEN');
    assert.equal(res.error?.message, 'missing scope: operator.write');
  });
});

describe('sessions.resolve', () => {
  it('always resolves the main session, short or canonical', async () => {
    for (const key of ['main', 'agent:main:main', 'MAIN']) {
      const payload = okPayload(await client.request('sessions.resolve', { key }));
      assert.deepEqual(payload, { ok: true, key: 'agent:main:main', agentId: 'main' });
    }
  });

  it('fails for an unknown key with "session not found" (item 39)', async () => {
    const id = randomUUID();
    const res = await client.request('sessions.resolve', { key: id });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.equal(res.error?.message, `session not found: ${id}`);
    assert.equal(res.error?.details?.code, 'SESSION_NOT_FOUND');
  });
});

describe('sessions.list', () => {
  it('lists rows newest first with the §3.2 fields and lastMessage on request (item 41)', async () => {
    const older = randomUUID();
    const newer = randomUUID();
    await sendAndFinish(client, older, 'first session');
    okPayload(await client.request('sessions.patch', { key: older, label: 'Older' }));
    await sendAndFinish(client, newer, 'second session');
    const list = okPayload(await client.request('sessions.list', { limit: 50, includeLastMessage: true, includeDerivedTitles: true }));
    assert.equal(typeof list.ts, 'number');
    assert.equal(list.count, list.sessions.length);
    assert.ok(list.totalCount >= 2);
    assert.deepEqual(Object.keys(list.defaults).sort(), ['contextTokens', 'model', 'modelProvider']);
    for (let i = 1; i < list.sessions.length; i += 1) assert.ok(list.sessions[i - 1].updatedAt >= list.sessions[i].updatedAt);
    const keys = list.sessions.map((s: any) => s.key);
    assert.ok(keys.indexOf(`agent:main:${newer}`) < keys.indexOf(`agent:main:${older}`));
    const row = list.sessions.find((s: any) => s.key === `agent:main:${older}`);
    assert.equal(row.label, 'Older');
    assert.equal(row.derivedTitle, 'first session');
    assert.equal(typeof row.updatedAt, 'number');
    assert.ok(row.totalTokens > 0);
    assert.equal(row.contextTokens, list.defaults.contextTokens);
    assert.equal(row.lastMessage.role, 'assistant');
    assert.ok(Array.isArray(row.lastMessage.content));
    assert.doesNotMatch(JSON.stringify(list), /"\/(tmp|home|root|var)\//);
  });

  it('pages with limit and offset', async () => {
    for (let i = 0; i < 3; i += 1) okPayload(await client.request('sessions.patch', { key: randomUUID() }));
    const first = okPayload(await client.request('sessions.list', { limit: 2 }));
    assert.equal(first.sessions.length, 2);
    assert.equal(first.limitApplied, 2);
    assert.equal(first.hasMore, true);
    assert.equal(first.nextOffset, 2);
    const second = okPayload(await client.request('sessions.list', { limit: 2, offset: 2 }));
    assert.notEqual(second.sessions[0].key, first.sessions[1].key);
    const big = okPayload(await client.request('sessions.list', { limit: 100000 }));
    assert.equal(big.limitApplied, 500);
    assert.equal(big.hasMore, false);
    assert.equal(big.nextOffset, null);
  });

  it('refuses a client with no scopes (item 20)', async () => {
    const none = await stack.client({ scopes: [] });
    const res = await none.request('sessions.list', {});
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'FORBIDDEN');
    assert.equal(res.error?.message, 'missing scope: operator.read');
  });

  it('refuses a non-integer limit', async () => {
    const res = await client.request('sessions.list', { limit: 'ten' });
    assert.equal(res.ok, false);
    assert.match(res.error!.message, /^invalid sessions\.list params: /);
  });
});

describe('sessions.delete', () => {
  it('deletes a session; a second delete by bare id answers deleted:false', async () => {
    const id = randomUUID();
    await sendAndFinish(client, id, 'to be deleted');
    const payload = okPayload(await client.request('sessions.delete', { key: `agent:main:${id}` }));
    assert.deepEqual(payload, { ok: true, key: `agent:main:${id}`, deleted: true });
    const again = okPayload(await client.request('sessions.delete', { key: id }));
    assert.deepEqual(again, { ok: true, key: `agent:main:${id}`, deleted: false });
    const res = await client.request('sessions.resolve', { key: id });
    assert.match(res.error!.message, /session not found/);
    const history = okPayload(await client.request('chat.history', { sessionKey: id }));
    assert.deepEqual(history.messages, []);
  });

  it('refuses to delete the main session', async () => {
    const res = await client.request('sessions.delete', { key: 'main' });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.equal(res.error?.message, 'cannot delete the main session');
  });

  it('aborts an active run first and leaves nothing behind', async () => {
    const id = randomUUID();
    stack.fake.enqueue({ text: Array.from({ length: 40 }, (_, i) => `w${i} `), chunkDelayMs: 50 });
    const runId = randomUUID();
    okPayload(await client.request('chat.send', { sessionKey: id, message: 'long one', idempotencyKey: runId }));
    await client.waitFor((f) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId, WAIT_MS, 'first delta');
    const payload = okPayload(await client.request('sessions.delete', { key: id }));
    assert.equal(payload.deleted, true);
    const terminal = await waitTerminal(client, runId);
    assert.equal(terminal.payload.state, 'aborted');
    await settle(150);
    const list = okPayload(await client.request('sessions.list', { limit: 500 }));
    assert.equal(list.sessions.some((s: any) => s.key === `agent:main:${id}`), false);
  });
});

describe('sessions.reset', () => {
  it('empties the history and keeps sessionId and label', async () => {
    const id = randomUUID();
    await sendAndFinish(client, id, 'remember me');
    const before = okPayload(await client.request('sessions.patch', { key: id, label: 'Keep' }));
    const payload = okPayload(await client.request('sessions.reset', { key: id, reason: 'reset' }));
    assert.equal(payload.ok, true);
    assert.equal(payload.key, `agent:main:${id}`);
    assert.equal(payload.entry.sessionId, before.entry.sessionId);
    assert.equal(payload.entry.label, 'Keep');
    const history = okPayload(await client.request('chat.history', { sessionKey: id }));
    assert.deepEqual(history.messages, []);
    assert.equal(history.totalMessages, 0);
  });

  it('resets the main session even before it exists', async () => {
    const payload = okPayload(await client.request('sessions.reset', { key: 'main' }));
    assert.equal(payload.key, 'agent:main:main');
  });

  it('fails for an unknown key with "session not found"', async () => {
    const res = await client.request('sessions.reset', { key: randomUUID() });
    assert.equal(res.ok, false);
    assert.match(res.error!.message, /^session not found: /);
  });
});

describe('sessions.subscribe', () => {
  it('delivers session.message and sessions.changed only to subscribed sockets (item 43)', async () => {
    const subscriber = await stack.client();
    const bystander = await stack.client();
    assert.deepEqual(okPayload(await subscriber.request('sessions.subscribe', {})), { subscribed: true });
    const id = randomUUID();
    const runId = await sendAndFinish(client, id, 'watch this');
    await waitTerminal(subscriber, runId);
    await settle();
    const messages = subscriber.events.filter((e) => e.event === 'session.message' && e.payload.sessionKey === `agent:main:${id}`);
    assert.deepEqual(
      messages.map((e) => e.payload.message.role),
      ['user', 'assistant'],
    );
    assert.equal(messages[0]!.payload.message.content[0].text, 'watch this');
    assert.equal(messages[0]!.payload.messageId, messages[0]!.payload.message.id);
    assert.equal(typeof messages[0]!.payload.messageSeq, 'number');
    const changed = subscriber.events.filter((e) => e.event === 'sessions.changed' && e.payload.sessionKey === `agent:main:${id}`);
    assert.ok(changed.some((e) => e.payload.phase === 'start' && e.payload.runId === runId));
    assert.ok(changed.some((e) => e.payload.phase === 'end'));
    assert.equal(bystander.events.some((e) => e.event === 'session.message' || e.event === 'sessions.changed'), false);
    assert.deepEqual(subscriber.seqErrors, []);

    assert.deepEqual(okPayload(await subscriber.request('sessions.unsubscribe', {})), { subscribed: false });
    const count = subscriber.events.filter((e) => e.event === 'session.message').length;
    const next = await sendAndFinish(client, id, 'not watched');
    await waitTerminal(subscriber, next);
    await settle();
    assert.equal(subscriber.events.filter((e) => e.event === 'session.message').length, count);
  });
});

describe('sessions.messages.subscribe', () => {
  it('returns the canonical key and delivers session.message for that key only', async () => {
    const watcher = await stack.client();
    const id = randomUUID();
    const other = randomUUID();
    const payload = okPayload(await watcher.request('sessions.messages.subscribe', { key: id }));
    assert.deepEqual(payload, { subscribed: true, key: `agent:main:${id}` });
    const a = await sendAndFinish(client, id, 'for the watcher');
    const b = await sendAndFinish(client, other, 'not for the watcher');
    await waitTerminal(watcher, a);
    await waitTerminal(watcher, b);
    await settle();
    const keys = new Set(watcher.events.filter((e) => e.event === 'session.message').map((e) => e.payload.sessionKey));
    assert.deepEqual([...keys], [`agent:main:${id}`]);
    assert.equal(watcher.events.some((e) => e.event === 'sessions.changed'), false);
    const off = okPayload(await watcher.request('sessions.messages.unsubscribe', { key: id }));
    assert.deepEqual(off, { subscribed: false, key: `agent:main:${id}` });
  });
});

describe('chat.subscribe', () => {
  it('answers ok for any well-formed key (item 42)', async () => {
    const id = randomUUID();
    assert.deepEqual(okPayload(await client.request('chat.subscribe', { sessionKey: id })), {
      subscribed: true,
      sessionKey: `agent:main:${id}`,
    });
    assert.deepEqual(okPayload(await client.request('chat.subscribe', { friendlyId: id })), {
      subscribed: true,
      sessionKey: `agent:main:${id}`,
    });
    assert.equal(okPayload(await client.request('chat.subscribe', {})).sessionKey, 'agent:main:main');
  });

  it('refuses a malformed key', async () => {
    const res = await client.request('chat.subscribe', { sessionKey: 'a b' });
    assert.equal(res.ok, false);
    assert.match(res.error!.message, /invalid session key/);
  });
});
