/**
 * The WebClaw sequence (protocol.md Appendix A): one short-lived socket per
 * RPC plus a long-lived stream socket, protocol 3, connect sent without
 * waiting for the challenge.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { okPayload, REPLY_CHUNKS, REPLY_TEXT, runEvents, settle, startStack, waitTerminal, type Stack } from './e2e-setup.js';
import { generateDeviceIdentity, ProtocolClient, type ConnectOptions } from '../../helpers/protocol-client.js';

const WEBCLAW: ConnectOptions = {
  minProtocol: 3,
  maxProtocol: 3,
  client: { id: 'gateway-client', mode: 'ui', version: 'dev', platform: 'web' },
  scopes: ['operator.admin'],
  waitForChallenge: false,
};

let stack: Stack;

before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.close();
});

/** One WebClaw API call: open, connect (protocol 3, no wait), one request, close. */
async function rpc(method: string, params: unknown): Promise<any> {
  const socket = await ProtocolClient.open(stack.wsUrl);
  try {
    const hello = await socket.connect({ token: stack.token, ...WEBCLAW });
    assert.equal(okPayload(hello).protocol, 3);
    return okPayload(await socket.request(method, params));
  } finally {
    await socket.close();
  }
}

describe('WebClaw flow', () => {
  it('new chat → send → cumulative deltas → final → history with the events\' sessionKey', async () => {
    // The stream socket: signs a v2 device like WebClaw HEAD and reads history {limit:1} at once.
    const stream = await ProtocolClient.open(stack.wsUrl);
    const { nonce } = await stream.challenge();
    const hello = await stream.connect({
      token: stack.token,
      ...WEBCLAW,
      waitForChallenge: true,
      device: { identity: generateDeviceIdentity(), version: 'v2', nonce },
    });
    assert.equal(okPayload(hello).protocol, 3);
    const first = okPayload(await stream.request('chat.history', { sessionKey: 'main', limit: 1 }));
    assert.equal(first.sessionKey, 'agent:main:main');

    const friendlyId = randomUUID();
    const created = await rpc('sessions.patch', { key: friendlyId });
    assert.equal(created.key, `agent:main:${friendlyId}`);
    assert.equal(created.key.split(':').at(-1), friendlyId);

    const runId = randomUUID();
    const sent = await rpc('chat.send', {
      sessionKey: created.key,
      message: 'Hello from WebClaw',
      thinking: 'medium',
      attachments: [],
      deliver: true,
      timeoutMs: 120000,
      idempotencyKey: runId,
    });
    assert.deepEqual(sent, { runId, status: 'started' });

    const final = await waitTerminal(stream, runId);
    assert.equal(final.payload.state, 'final');
    await settle();

    const events = runEvents(stream, runId);
    const chat = events.filter((e) => e.event === 'chat').map((e) => e.payload);
    const deltas = chat.filter((p) => p.state === 'delta');
    // Coalesced per run (issue 13 item 7): at least the first chunk alone, at most one delta per chunk.
    assert.ok(deltas.length >= 1 && deltas.length <= REPLY_CHUNKS.length, `${deltas.length} deltas`);
    assert.equal(deltas[0].deltaText, REPLY_CHUNKS[0], 'the first chunk leaves at once');
    let sofar = '';
    for (const delta of deltas) {
      sofar += delta.deltaText;
      assert.equal(delta.message.content[0].text, sofar, 'cumulative text (item 27)');
    }
    assert.equal(sofar, REPLY_TEXT);
    assert.equal(chat.filter((p) => p.state === 'status').length, 0, 'no status state (item 29)');
    assert.equal(chat.filter((p) => ['final', 'aborted', 'error'].includes(p.state)).length, 1, 'one terminal (item 28)');
    assert.equal(events.at(-1)!.payload.state, 'final', 'nothing after the terminal event (item 28)');
    assert.deepEqual(final.payload.message.content, [{ type: 'text', text: REPLY_TEXT }]);
    for (let i = 1; i < chat.length; i += 1) assert.ok(chat[i].seq >= chat[i - 1].seq);
    const agentSeqs = events.filter((e) => e.event === 'agent').map((e) => e.payload.seq);
    for (let i = 1; i < agentSeqs.length; i += 1) assert.ok(agentSeqs[i] > agentSeqs[i - 1], 'agent seq strictly increasing');
    const lifecycle = events.filter((e) => e.event === 'agent' && e.payload.stream === 'lifecycle').map((e) => e.payload.data.phase);
    assert.deepEqual(lifecycle.filter((p) => p !== 'model'), ['start', 'end']);
    assert.deepEqual(stream.seqErrors, []);

    const history = await rpc('chat.history', { sessionKey: created.key, limit: 200 });
    const eventKeys = new Set(events.map((e) => e.payload.sessionKey));
    assert.deepEqual([...eventKeys], [history.sessionKey], 'same sessionKey in history and events (A.7)');
    assert.equal(history.messages.length, 2);
    const [user, assistant] = history.messages;
    assert.equal(user.role, 'user');
    assert.deepEqual(user.content, [{ type: 'text', text: 'Hello from WebClaw' }], 'user content as blocks (A.6)');
    assert.ok(Math.abs(user.timestamp - Date.now()) < 10_000);
    assert.equal(assistant.role, 'assistant');
    assert.equal(assistant.id, final.payload.message.id, 'streamed final and stored row share an id');

    // Sidebar: rename, list, resolve, delete (canonical, then the bare uuid).
    await rpc('sessions.patch', { key: created.key, label: 'Renamed chat' });
    const list = await rpc('sessions.list', { limit: 50, includeLastMessage: true, includeDerivedTitles: true });
    const row = list.sessions.find((s: any) => s.key === created.key);
    assert.equal(row.label, 'Renamed chat');
    assert.equal(row.lastMessage.role, 'assistant');
    assert.equal((await rpc('sessions.resolve', { key: friendlyId })).key, created.key);
    assert.equal((await rpc('sessions.delete', { key: created.key })).deleted, true);
    assert.equal((await rpc('sessions.delete', { key: friendlyId })).deleted, false);
    await stream.close();
  });

  it('delivers the same run to every operator socket (3 watchers)', async () => {
    const watchers = await Promise.all([0, 1, 2].map(() => stack.client(WEBCLAW)));
    const runId = randomUUID();
    await rpc('chat.send', { sessionKey: 'main', message: 'fan out', idempotencyKey: runId });
    await Promise.all(watchers.map((w) => waitTerminal(w, runId)));
    const sequences = watchers.map((w) => JSON.stringify(runEvents(w, runId).map((e) => [e.event, e.payload])));
    assert.equal(new Set(sequences).size, 1);
    for (const w of watchers) assert.deepEqual(w.seqErrors, []);
    await Promise.all(watchers.map((w) => w.close()));
  });

  it('reports an unknown session so WebClaw starts a new chat', async () => {
    const socket = await ProtocolClient.open(stack.wsUrl);
    await socket.connect({ token: stack.token, ...WEBCLAW });
    const res = await socket.request('sessions.resolve', { key: randomUUID() });
    assert.equal(res.ok, false);
    assert.ok(res.error!.message.toLowerCase().includes('session not found'));
    await socket.close();
  });
});
