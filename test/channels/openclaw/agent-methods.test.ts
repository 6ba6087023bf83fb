import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { okPayload, REPLY_TEXT, runEvents, settle, startStack, waitTerminal, WAIT_MS, type Stack } from './e2e-setup.js';
import type { ProtocolClient, ResFrame } from '../../helpers/protocol-client.js';

let stack: Stack;
let client: ProtocolClient;

before(async () => {
  stack = await startStack();
  client = await stack.client();
});
after(async () => {
  await stack?.close();
});

/** Send `agent` with a fixed request id and resolve with both res frames. */
async function agentCall(c: ProtocolClient, params: Record<string, unknown>, timeoutMs = WAIT_MS): Promise<{ id: string; first: ResFrame; second: ResFrame }> {
  const id = `agent-${randomUUID()}`;
  const first = await c.request('agent', params, { id });
  const second = (await c.waitFor((f) => f.type === 'res' && f.id === id && f !== first, timeoutMs, 'second agent res')) as ResFrame;
  return { id, first, second };
}

function slowReply(): void {
  stack.fake.enqueue({ text: Array.from({ length: 30 }, (_, i) => `w${i} `), chunkDelayMs: 30 });
}

describe('agent', () => {
  it('answers accepted, streams agent events, then a second res with the final (item 35)', async () => {
    const runId = randomUUID();
    const { id, first, second } = await agentCall(client, { message: 'Second turn via agent method.', sessionKey: 'main', idempotencyKey: runId });
    const accepted = okPayload(first);
    assert.equal(accepted.runId, runId);
    assert.equal(accepted.sessionKey, 'agent:main:main');
    assert.equal(accepted.agentId, 'main');
    assert.equal(accepted.status, 'accepted');
    assert.equal(typeof accepted.acceptedAt, 'number');

    const final = okPayload(second);
    assert.equal(final.runId, runId);
    assert.equal(final.status, 'ok');
    assert.equal(final.summary, 'completed');
    assert.deepEqual(final.result.payloads, [{ text: REPLY_TEXT, mediaUrl: null }]);
    assert.equal(final.result.meta.aborted, false);
    assert.equal(final.result.meta.stopReason, 'stop');
    assert.equal(typeof final.result.meta.durationMs, 'number');
    assert.equal(final.result.meta.agentMeta.model, 'fake-model');
    assert.equal(typeof final.result.meta.agentMeta.sessionId, 'string');
    assert.deepEqual(Object.keys(final.result.meta.agentMeta.usage).sort(), ['cacheRead', 'cacheWrite', 'input', 'output', 'total']);
    assert.equal(client.responsesFor(id).length, 2);

    const agentSeqs = runEvents(client, runId).filter((e) => e.event === 'agent').map((e) => e.payload.seq);
    assert.ok(agentSeqs.length >= 4);
    for (let i = 1; i < agentSeqs.length; i += 1) assert.equal(agentSeqs[i], agentSeqs[i - 1] + 1);
    // Order: accepted res < every event < terminal chat event < final res.
    const frames = client.frames;
    const terminal = await waitTerminal(client, runId);
    const eventIdx = frames.findIndex((f) => f.type === 'event' && f.payload?.runId === runId);
    assert.ok(frames.indexOf(first) < eventIdx);
    assert.ok(frames.indexOf(terminal) < frames.indexOf(second));
  });

  it('lets a write-only CLI client (protocol 4) see the run and its final', async () => {
    const cli = await stack.client({ client: { id: 'cli', mode: 'cli', deviceFamily: 'Linux' }, scopes: ['operator.write'] });
    const { second } = await agentCall(cli, { message: 'hello-from-real-cli', sessionKey: 'main', idempotencyKey: `cli-idem-${randomUUID()}` });
    const final = okPayload(second);
    assert.equal(final.status, 'ok');
    assert.ok(runEvents(cli, final.runId).some((e) => e.event === 'chat' && e.payload.state === 'final'));
  });

  it('answers a repeat of a finished run with one res carrying the recorded final', async () => {
    const runId = randomUUID();
    await agentCall(client, { message: 'repeat me', idempotencyKey: runId });
    const id = `again-${randomUUID()}`;
    const res = await client.request('agent', { message: 'repeat me', idempotencyKey: runId }, { id });
    const final = okPayload(res);
    assert.equal(final.status, 'ok');
    assert.equal(final.result.payloads[0].text, REPLY_TEXT);
    await settle();
    assert.equal(client.responsesFor(id).length, 1);
  });

  it('answers a repeat of a running run with accepted, then the final', async () => {
    const runId = randomUUID();
    slowReply();
    const firstCall = agentCall(client, { message: 'slow one', idempotencyKey: runId }, 10_000);
    await client.waitFor((f) => f.type === 'event' && f.event === 'agent' && f.payload?.runId === runId, WAIT_MS, 'first event');
    const repeat = await agentCall(client, { message: 'slow one', idempotencyKey: runId }, 10_000);
    assert.equal(okPayload(repeat.first).status, 'accepted');
    assert.equal(okPayload(repeat.second).status, 'ok');
    assert.equal(okPayload((await firstCall).second).status, 'ok');
  });

  it('reports an aborted run in the second res', async () => {
    const runId = randomUUID();
    const sessionKey = randomUUID();
    slowReply();
    const call = agentCall(client, { message: 'abort me', sessionKey, idempotencyKey: runId }, 10_000);
    await client.waitFor((f) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId, WAIT_MS, 'a delta');
    okPayload(await client.request('chat.abort', { sessionKey }));
    const final = okPayload((await call).second);
    assert.equal(final.status, 'aborted');
    assert.equal(final.summary, 'aborted');
    assert.equal(final.result.meta.aborted, true);
    assert.equal(final.result.meta.stopReason, 'rpc');
    assert.ok(final.result.payloads.length <= 1);
  });

  it('reports a failed run as an UNAVAILABLE error res with the model error', async () => {
    stack.fake.enqueue({ status: 400, errorMessage: 'model exploded' });
    const runId = randomUUID();
    const { first, second } = await agentCall(client, { message: 'fail please', idempotencyKey: runId });
    assert.equal(okPayload(first).status, 'accepted');
    assert.equal(second.ok, false);
    assert.equal(second.error?.code, 'UNAVAILABLE');
    assert.match(second.error!.message, /model exploded/);
    const terminal = await waitTerminal(client, runId);
    assert.equal(terminal.payload.state, 'error');
    // A repeat answers once, with the same error.
    const again = await client.request('agent', { message: 'fail please', idempotencyKey: runId });
    assert.equal(again.ok, false);
    assert.match(again.error!.message, /model exploded/);
  });

  it('refuses bad params', async () => {
    const missing = await client.request('agent', { sessionKey: 'main' });
    assert.equal(missing.error?.message, "invalid agent params: must have required property 'message'");
    const empty = await client.request('agent', { message: '' });
    assert.match(empty.error!.message, /^invalid agent params: at \/message: /);
    const agent = await client.request('agent', { message: 'x', agentId: 'other' });
    assert.equal(agent.error?.message, 'unknown agent: other');
    const reader = await stack.client({ scopes: ['operator.read'] });
    const forbidden = await reader.request('agent', { message: 'x' });
    assert.equal(forbidden.error?.code, 'FORBIDDEN');
  });
});

describe('agent.wait', () => {
  it('answers a finished run at once (item 37)', async () => {
    const runId = randomUUID();
    await agentCall(client, { message: 'done soon', idempotencyKey: runId });
    const started = Date.now();
    const payload = okPayload(await client.request('agent.wait', { runId, timeoutMs: 60000 }));
    assert.ok(Date.now() - started < 1000);
    assert.equal(payload.runId, runId);
    assert.equal(payload.status, 'ok');
    assert.equal(typeof payload.startedAt, 'number');
    assert.ok(payload.endedAt >= payload.startedAt);
    assert.equal(payload.stopReason, 'stop');
    assert.deepEqual(payload.terminalReply, { disposition: 'visible', text: REPLY_TEXT });
  });

  it('returns when a running run ends (item 37)', async () => {
    const runId = randomUUID();
    slowReply();
    okPayload(await client.request('chat.send', { sessionKey: randomUUID(), message: 'wait for me', idempotencyKey: runId }));
    const payload = okPayload(await client.request('agent.wait', { runId, timeoutMs: 10000 }, { timeoutMs: 10_000 }));
    assert.equal(payload.status, 'ok');
    assert.ok(runEvents(client, runId).some((e) => e.event === 'chat' && e.payload.state === 'final'));
  });

  it('answers timeout when the run outlasts timeoutMs', async () => {
    const runId = randomUUID();
    const sessionKey = randomUUID();
    slowReply();
    okPayload(await client.request('chat.send', { sessionKey, message: 'too slow', idempotencyKey: runId }));
    const payload = okPayload(await client.request('agent.wait', { runId, timeoutMs: 50 }));
    assert.deepEqual(payload, { runId, status: 'timeout' });
    okPayload(await client.request('chat.abort', { sessionKey }));
    await waitTerminal(client, runId);
  });

  it('reports a failed run with status error', async () => {
    stack.fake.enqueue({ status: 400, errorMessage: 'bad request here' });
    const runId = randomUUID();
    okPayload(await client.request('chat.send', { sessionKey: randomUUID(), message: 'x', idempotencyKey: runId }));
    const payload = okPayload(await client.request('agent.wait', { runId, timeoutMs: 5000 }));
    assert.equal(payload.status, 'error');
    assert.match(payload.error, /bad request here/);
  });

  it('refuses an unknown runId and a missing runId', async () => {
    const unknown = await client.request('agent.wait', { runId: 'no-such-run', timeoutMs: 10 });
    assert.equal(unknown.ok, false);
    assert.equal(unknown.error?.message, 'unknown run: no-such-run');
    const missing = await client.request('agent.wait', {});
    assert.equal(missing.error?.message, "invalid agent.wait params: must have required property 'runId'");
  });
});
