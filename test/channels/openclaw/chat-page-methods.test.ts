/**
 * The chat page of OpenClaw's Control UI, method by method on a real gateway
 * with a fake model: chat.startup, chat.metadata, sessions.create,
 * sessions.describe, sessions.resolve by short id, sessions.viewers.set,
 * sessions.messages.subscribe with approvals. Shapes are checked against the
 * recorded OpenClaw 2026.9.6 answers (test/fixtures/openclaw-control-ui-calls.json).
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ProtocolClient } from '../../helpers/protocol-client.js';
import { okPayload, REPLY_TEXT, sendAndFinish, startStack, waitTerminal, WAIT_MS, type Stack } from './e2e-setup.js';

const ROOT = new URL(import.meta.url.endsWith('.ts') ? '../../../' : '../../../../', import.meta.url);
const FIXTURE = fileURLToPath(new URL('test/fixtures/openclaw-control-ui-calls.json', ROOT));

let stack: Stack;
let client: ProtocolClient;
let recordedKeys: Map<string, string[] | 'array' | null>;

before(async () => {
  const { calls } = JSON.parse(await readFile(FIXTURE, 'utf8')) as { calls: { method: string; payloadKeys: string[] | 'array' | null }[] };
  recordedKeys = new Map(calls.map((call) => [call.method, call.payloadKeys]));
  stack = await startStack();
  client = await stack.client();
});
after(async () => {
  await stack?.close();
});

/** The keys OpenClaw answered `method` with that `payload` lacks. */
function missingKeys(method: string, payload: Record<string, unknown>, omitted: readonly string[] = []): string[] {
  const keys = recordedKeys.get(method);
  assert.ok(Array.isArray(keys), `the recording has an object answer for ${method}`);
  return keys.filter((key) => !omitted.includes(key) && !(key in payload));
}

describe('chat.startup', () => {
  it("answers a session that does not exist yet with OpenClaw's keys and no messages", async () => {
    const key = `agent:main:${randomUUID()}`;
    const payload = okPayload(await client.request('chat.startup', { sessionKey: key, limit: 80, maxBytes: 262144 }));
    assert.deepEqual(missingKeys('chat.startup', payload), []);
    assert.equal(payload.sessionKey, key);
    assert.deepEqual(payload.messages, []);
    assert.deepEqual(payload.pendingInputs, { items: [], total: 0 });
    assert.equal(payload.hasMore, false);
    assert.equal(payload.totalMessages, 0);
    assert.deepEqual(payload.defaults, { modelProvider: 'openai', model: 'fake-model', contextTokens: 128000, modelSelectionTarget: 'session' });
    assert.equal(payload.sessionInfo.key, key);
    assert.equal(payload.sessionInfo.agentId, 'main');
    assert.equal(payload.sessionInfo.isMain, false);
    assert.equal(payload.sessionInfo.updatedAt, null);
    assert.equal(payload.sessionInfo.hasActiveRun, false);
    assert.equal(payload.inFlightRun, undefined);
  });

  it('marks the main session as main', async () => {
    const payload = okPayload(await client.request('chat.startup', { sessionKey: 'main' }));
    assert.equal(payload.sessionKey, 'agent:main:main');
    assert.equal(payload.sessionInfo.isMain, true);
    assert.equal(payload.sessionInfo.classification, 'main');
  });

  it('returns the reply after it finished, with the session row', async () => {
    const key = `agent:main:${randomUUID()}`;
    await sendAndFinish(client, key, 'hello startup');
    const payload = okPayload(await client.request('chat.startup', { sessionKey: key, limit: 80 }));
    assert.equal(payload.totalMessages, 2);
    assert.deepEqual(payload.messages.map((m: any) => m.role), ['user', 'assistant']);
    assert.equal(payload.messages[1].content[0].text, REPLY_TEXT);
    assert.equal(typeof payload.sessionId, 'string');
    assert.equal(payload.sessionInfo.sessionId, payload.sessionId);
    assert.equal(payload.sessionInfo.derivedTitle, 'hello startup');
    assert.equal(typeof payload.sessionInfo.updatedAt, 'number');
    assert.equal(payload.sessionInfo.messageCount, 2);
  });

  it('sets hasMore when maxBytes keeps older messages out', async () => {
    const key = `agent:main:${randomUUID()}`;
    for (let i = 0; i < 3; i += 1) await sendAndFinish(client, key, `turn ${i} ${'x'.repeat(400)}`);
    const small = okPayload(await client.request('chat.startup', { sessionKey: key, maxBytes: 1024 }));
    assert.equal(small.totalMessages, 6);
    assert.ok(small.messages.length >= 1 && small.messages.length < 6, `got ${small.messages.length} messages`);
    assert.equal(small.hasMore, true);
    assert.equal(small.messages.at(-1).role, 'assistant');
    const whole = okPayload(await client.request('chat.startup', { sessionKey: key }));
    assert.equal(whole.messages.length, 6);
    assert.equal(whole.hasMore, false);
    const limited = okPayload(await client.request('chat.startup', { sessionKey: key, limit: 2 }));
    assert.equal(limited.messages.length, 2);
    assert.equal(limited.hasMore, true);
    assert.equal(limited.nextOffset, 2);
  });

  it("pages back with nextOffset as the Control UI's \"load older\" does", async () => {
    const key = `agent:main:${randomUUID()}`;
    for (let i = 0; i < 3; i += 1) await sendAndFinish(client, key, `page ${i} ${'y'.repeat(400)}`);
    const whole = okPayload(await client.request('chat.startup', { sessionKey: key }));
    const newest = okPayload(await client.request('chat.startup', { sessionKey: key, maxBytes: 1024 }));
    assert.equal(newest.hasMore, true);
    assert.equal(newest.nextOffset, newest.messages.length);
    // What the UI sends for the older page (limit 1000, offset = nextOffset).
    const older = okPayload(await client.request('chat.history', { sessionKey: key, limit: 1000, offset: newest.nextOffset }));
    assert.equal(older.hasMore, false);
    assert.equal(older.nextOffset, undefined);
    assert.equal(older.totalMessages, 6);
    const ids = (page: any): string[] => page.messages.map((m: any) => m.id);
    assert.deepEqual([...ids(older), ...ids(newest)], ids(whole));
    assert.equal(older.messages[0].__openclaw.seq, 1);
    const past = okPayload(await client.request('chat.history', { sessionKey: key, offset: 6 }));
    assert.deepEqual(past.messages, []);
    assert.equal(past.hasMore, false);
  });

  it('reports the run in flight while the model is still answering', async () => {
    const key = `agent:main:${randomUUID()}`;
    stack.fake.enqueue({ text: ['slow ', 'reply'], firstByteDelayMs: 1_500 });
    const runId = randomUUID();
    okPayload(await client.request('chat.send', { sessionKey: key, message: 'take your time', idempotencyKey: runId }));
    const payload = okPayload(await client.request('chat.startup', { sessionKey: key }));
    assert.equal(payload.inFlightRun?.runId, runId);
    assert.equal(typeof payload.inFlightRun.startedAt, 'number');
    assert.equal(payload.sessionInfo.hasActiveRun, true);
    assert.deepEqual(payload.sessionInfo.activeRunIds, [runId]);
    assert.equal((await waitTerminal(client, runId, WAIT_MS * 2)).payload.state, 'final');
    const after = okPayload(await client.request('chat.startup', { sessionKey: key }));
    assert.equal(after.inFlightRun, undefined);
  });

  it('answers a delta cursor with reset, since Pincer hands out none', async () => {
    const payload = okPayload(await client.request('chat.startup', { sessionKey: 'main', cursor: 'opaque' }));
    assert.deepEqual(payload, { kind: 'reset', sessionKey: 'agent:main:main' });
  });

  it('refuses a missing sessionKey and a maxBytes below 1024, naming the field', async () => {
    let res = await client.request('chat.startup', {});
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.match(res.error!.message, /^invalid chat\.startup params: .*sessionKey/);
    res = await client.request('chat.startup', { sessionKey: 'main', maxBytes: 10 });
    assert.match(res.error!.message, /maxBytes/);
  });
});

describe('chat.metadata', () => {
  it('lists the configured model as the default, and no commands', async () => {
    const payload = okPayload(await client.request('chat.metadata', { agentId: 'main', sessionKey: 'agent:main:main' }));
    assert.deepEqual(missingKeys('chat.metadata', payload), []);
    assert.deepEqual(payload.models, [
      { id: 'fake-model', name: 'fake-model', provider: 'openai', contextWindow: 128000, reasoning: false, tags: ['default'], available: true },
    ]);
    assert.deepEqual(payload.commands, []);
  });
});

describe('sessions.create', () => {
  it('creates the session, starts a run with the message, and the reply streams', async () => {
    const key = `agent:main:dashboard:${randomUUID()}`;
    const idempotencyKey = randomUUID();
    const payload = okPayload(await client.request('sessions.create', { agentId: 'main', message: 'second session hello', key, idempotencyKey }));
    assert.deepEqual(missingKeys('sessions.create', payload, ['messageSeq', 'serverTiming']), []);
    assert.equal(payload.ok, true);
    assert.equal(payload.key, key);
    assert.equal(payload.runStarted, true);
    assert.equal(payload.runId, idempotencyKey);
    assert.equal(payload.status, 'started');
    assert.equal(payload.entry.key, key);
    assert.equal(payload.entry.sessionId, payload.sessionId);
    assert.deepEqual(payload.resolved, { modelProvider: 'openai', model: 'fake-model' });
    const terminal = await waitTerminal(client, payload.runId);
    assert.equal(terminal.payload.state, 'final');
    const history = okPayload(await client.request('chat.startup', { sessionKey: key }));
    assert.deepEqual(history.messages.map((m: any) => m.role), ['user', 'assistant']);
    assert.equal(history.messages[0].content[0].text, 'second session hello');
  });

  it('answers a repeated idempotency key with the same run and stores the message once', async () => {
    const key = `agent:main:dashboard:${randomUUID()}`;
    const idempotencyKey = randomUUID();
    const first = okPayload(await client.request('sessions.create', { key, message: 'once', idempotencyKey }));
    await waitTerminal(client, first.runId);
    const again = okPayload(await client.request('sessions.create', { key, message: 'once', idempotencyKey }));
    assert.equal(again.runId, first.runId);
    assert.notEqual(again.status, 'started');
    const history = okPayload(await client.request('chat.startup', { sessionKey: key }));
    assert.equal(history.totalMessages, 2);
  });

  it('makes up a dashboard key when none is given, and starts no run without a message', async () => {
    const payload = okPayload(await client.request('sessions.create', { agentId: 'main', label: 'Planning' }));
    assert.match(payload.key, /^agent:main:dashboard:[0-9a-f-]{36}$/);
    assert.equal(payload.runStarted, false);
    assert.equal(payload.runId, undefined);
    assert.equal(payload.entry.label, 'Planning');
    const list = okPayload(await client.request('sessions.list', {}));
    assert.ok(list.sessions.some((row: any) => row.key === payload.key));
  });

  it('puts a short key under the given agent and refuses an agent that is not configured', async () => {
    const short = randomUUID();
    const payload = okPayload(await client.request('sessions.create', { key: short, agentId: 'main' }));
    assert.equal(payload.key, `agent:main:${short}`);
    const res = await client.request('sessions.create', { agentId: 'elsewhere' });
    assert.equal(res.ok, false);
    assert.equal(res.error?.details?.code, 'UNKNOWN_AGENT');
    const mismatch = await client.request('sessions.create', { key: 'agent:main:x', agentId: 'other' });
    assert.equal(mismatch.ok, false);
    assert.match(mismatch.error!.message, /agentId/);
  });

  it('needs write scope', async () => {
    const reader = await stack.client({ scopes: ['operator.read'] });
    const res = await reader.request('sessions.create', { message: 'hi' });
    assert.equal(res.error?.message, 'missing scope: operator.write');
  });
});

describe('sessions.describe', () => {
  it('answers null for a session that does not exist and the row for one that does', async () => {
    const key = `agent:main:${randomUUID()}`;
    assert.deepEqual(okPayload(await client.request('sessions.describe', { key })), { session: null });
    await sendAndFinish(client, key, 'describe me');
    const { session } = okPayload(await client.request('sessions.describe', { key }));
    assert.equal(session.key, key);
    assert.equal(session.messageCount, 2);
    assert.equal(session.derivedTitle, 'describe me');
  });
});

describe('sessions.resolve', () => {
  it("finds a session by the Control UI's short id and reports its title", async () => {
    const uuid = randomUUID();
    const key = `agent:main:dashboard:${uuid}`;
    await sendAndFinish(client, key, 'find me later');
    const payload = okPayload(await client.request('sessions.resolve', { shortId: uuid.replaceAll('-', ''), slugHint: 'find-me', agentId: 'main', allowMissing: true }));
    assert.deepEqual(payload, { ok: true, key, agentId: 'main', displayName: 'find me later' });
  });

  it('answers {ok:false} for a missing session when allowMissing, and an error otherwise', async () => {
    const shortId = randomUUID().replaceAll('-', '');
    assert.deepEqual(okPayload(await client.request('sessions.resolve', { shortId, allowMissing: true })), { ok: false });
    const res = await client.request('sessions.resolve', { shortId });
    assert.equal(res.error?.details?.code, 'SESSION_NOT_FOUND');
    const none = await client.request('sessions.resolve', {});
    assert.match(none.error!.message, /one of key, sessionId, label or shortId/);
  });
});

describe('sessions.viewers.set', () => {
  it('echoes the canonical keys it now watches', async () => {
    const payload = okPayload(await client.request('sessions.viewers.set', { sessionKeys: ['main', 'agent:main:main', 'Other'] }));
    assert.deepEqual(payload, { sessionKeys: ['agent:main:main', 'agent:main:other'] });
  });

  it('refuses more than 100 keys', async () => {
    const res = await client.request('sessions.viewers.set', { sessionKeys: Array.from({ length: 101 }, (_, i) => `s${i}`) });
    assert.match(res.error!.message, /^invalid sessions\.viewers\.set params: .*sessionKeys/);
  });
});

describe('sessions.messages.subscribe', () => {
  it('adds an empty, complete approval replay when asked for approvals', async () => {
    const payload = okPayload(await client.request('sessions.messages.subscribe', { key: 'agent:main:main', includeApprovals: true }));
    assert.deepEqual(missingKeys('sessions.messages.subscribe', payload), []);
    assert.equal(payload.approvalReplay.sessionKey, 'agent:main:main');
    assert.deepEqual(payload.approvalReplay.approvals, []);
    assert.equal(payload.approvalReplay.truncated, false);
    const plain = okPayload(await client.request('sessions.messages.subscribe', { key: 'main' }));
    assert.deepEqual(plain, { subscribed: true, key: 'agent:main:main' });
  });
});
