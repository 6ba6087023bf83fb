import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { createAssistant } from '../../src/assistant/assistant.js';
import type { Assistant } from '../../src/assistant/types.js';
import type { AgentEvent, RunEvent } from '../../src/agent/types.js';
import { GatewayError } from '../../src/protocol/errors.js';
import { MAIN, WAIT_MS, startHarness, type Harness } from '../agent/service-harness.js';
import { createScriptedProvider, textReply, toolReply } from '../agent/scripted-provider.js';

const KEY = 'agent:main:facade';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(provider = createScriptedProvider([textReply(['Hi', ' there'])])): Promise<{ h: Harness; assistant: Assistant }> {
  harness = await startHarness({ provider });
  return { h: harness, assistant: createAssistant({ store: harness.store, bus: harness.bus, agent: harness.agent }) };
}

function changes(events: AgentEvent[], sessionKey: string): string[] {
  return events.flatMap((e) => (e.type === 'session.changed' && e.sessionKey === sessionKey ? [e.reason] : []));
}

describe('assistant.delete and reset', () => {
  it('runs in the session lane: a send arriving while delete stops the runs lands after the delete, in a fresh session', async () => {
    const { h, assistant } = await start(createScriptedProvider([[{ type: 'hang' }]]));
    const first = await assistant.send({ sessionKey: KEY, text: 'long one', idempotencyKey: 'long' });
    assert.equal(first.status, 'started');
    await h.nextEvent((e) => e.type === 'run.start' && e.runId === 'long');
    const oldId = assistant.describe(KEY)?.sessionId;

    const deleting = assistant.delete(KEY);
    // Between the abort and the delete: this send must neither be deleted nor write into the deleted session.
    const sending = assistant.send({ sessionKey: KEY, text: 'after delete', idempotencyKey: 'after' });
    assert.equal(await deleting, true);
    const second = await sending;
    assert.equal(second.status, 'started');

    const page = await assistant.history(KEY);
    assert.deepEqual(
      page.messages.filter((m) => m.role === 'user').map((m) => m.content),
      [[{ type: 'text', text: 'after delete' }]],
    );
    assert.notEqual(page.sessionId, oldId, 'the send started a new session');
    assert.equal((await assistant.wait('long', WAIT_MS))?.status, 'aborted');
    await h.nextEvent((e) => e.type === 'run.start' && e.runId === 'after');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(changes(h.events, KEY), ['created', 'run.start', 'run.end', 'deleted', 'created', 'run.start']);
  });

  it('resets the main session even before it exists, refuses unknown others, never deletes main', async () => {
    const { assistant } = await start();
    assert.equal(assistant.describe(MAIN), undefined);
    assert.equal((await assistant.reset(MAIN))?.key, MAIN);
    assert.equal(await assistant.reset('agent:main:nobody'), undefined);
    await assert.rejects(assistant.delete(MAIN), (e: unknown) => e instanceof GatewayError && e.message === 'cannot delete the main session');
    assert.equal(await assistant.delete('agent:main:nobody'), false);
  });
});

describe('assistant.send', () => {
  it('announces the new session and the stored user message before any event of its run', async () => {
    const { h, assistant } = await start();
    const sent = await assistant.send({ sessionKey: KEY, text: 'hello', idempotencyKey: 'greet' });
    assert.equal(sent.status, 'started');
    await h.runEnd('greet');
    const order = h.events
      .filter((e) => 'sessionKey' in e && e.sessionKey === KEY)
      .map((e) => (e.type === 'session.changed' ? `changed:${e.reason}` : e.type === 'session.message' ? `message:${e.message.role}` : e.type))
      .filter((label) => label.startsWith('changed:') || label.startsWith('message:') || label === 'run.start');
    assert.deepEqual(order.slice(0, 3), ['changed:created', 'message:user', 'run.start']);
    const announced = h.events.find((e) => e.type === 'session.message' && e.message.role === 'user');
    assert.deepEqual(announced, { type: 'session.message', sessionKey: KEY, message: sent.userMessage, messageCount: 1 });
    // A repeated key answers with the same run and announces nothing more.
    const before = h.events.length;
    assert.equal((await assistant.send({ sessionKey: KEY, text: 'hello', idempotencyKey: 'greet' })).status, 'ok');
    assert.equal(h.events.slice(before).some((e) => e.type === 'session.message' || e.type === 'session.changed'), false);
  });

  it('is the only publisher of the user message: the agent service alone stores it silently', async () => {
    const { h } = await start();
    await h.agent.submit({ sessionKey: KEY, text: 'direct', idempotencyKey: 'direct' });
    await h.runEnd('direct');
    assert.equal(h.events.some((e) => e.type === 'session.message' && e.message.role === 'user'), false);
    assert.equal(h.events.some((e) => e.type === 'session.changed' && e.reason === 'created'), false);
    assert.deepEqual((await h.store.history(KEY)).messages.map((m) => m.role), ['user', 'assistant']);
  });
});

describe('assistant.inject', () => {
  it('stores an assistant message with no run and announces it as an injected session message', async () => {
    const { h, assistant } = await start();
    const message = await assistant.inject(KEY, { text: 'note', label: 'capture' });
    assert.equal(message.runId, undefined, 'no made-up run id');
    assert.deepEqual(message.content, [{ type: 'text', text: '[capture]\n\nnote' }]);
    const announced = await h.nextEvent((e) => e.type === 'session.message' && e.message.id === message.id);
    assert.deepEqual(announced, { type: 'session.message', sessionKey: KEY, message, messageCount: 1, injected: true });
    assert.equal(h.events.some((e) => e.type.startsWith('run.')), false, 'no run event');
    assert.equal(assistant.describe(KEY)?.lastRunId, null);
  });
});

describe('assistant.patch', () => {
  it('creates, labels and announces each change once', async () => {
    const { h, assistant } = await start();
    await assistant.create(KEY);
    await assistant.create(KEY);
    assert.equal((await assistant.patch(KEY, { label: '  Work  ' })).label, 'Work');
    assert.equal((await assistant.patch(KEY, { label: ' ' })).label, null);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(changes(h.events, KEY), ['created', 'patched', 'patched']);
    const created = h.events.find((e) => e.type === 'session.changed' && e.reason === 'created');
    assert.equal(created?.type === 'session.changed' && created.session?.key, KEY);
  });
});

describe('run events stand on their own', () => {
  it('number each event, carry the reply so far with tool calls, and end with text, usage totals and message count', async () => {
    const provider = createScriptedProvider([
      [{ type: 'text', delta: 'Let me look.' }, ...toolReply([{ id: 'c1', name: 'nope', arguments: { a: 1 } }])],
      textReply(['Found', ' it.']),
    ]);
    const { h, assistant } = await start(provider);
    const seen: RunEvent[] = [];
    const watch = assistant.watchRun('tools', (event) => seen.push(event));
    await assistant.send({ sessionKey: KEY, text: 'look', idempotencyKey: 'tools' });
    const end = await h.runEnd('tools');
    await new Promise((resolve) => setImmediate(resolve));
    watch.unsubscribe();

    assert.deepEqual(seen.map((e) => e.seq), seen.map((_, i) => i + 1));
    const sessionId = assistant.describe(KEY)?.sessionId;
    for (const event of seen) assert.equal(event.sessionId, sessionId);
    const deltas = seen.filter((e) => e.type === 'text.delta');
    assert.deepEqual(
      deltas.map((e) => e.type === 'text.delta' && [e.itemIndex, e.reply.text, e.reply.toolCalls.length]),
      [
        [1, 'Let me look.', 0],
        [2, 'Let me look.Found', 1],
        [2, 'Let me look.Found it.', 1],
      ],
    );
    const call = seen.find((e) => e.type === 'tool.call');
    assert.deepEqual(call?.type === 'tool.call' && call.reply, {
      text: 'Let me look.',
      toolCalls: [{ type: 'toolCall', id: 'c1', name: 'nope', arguments: { a: 1 } }],
    });
    assert.equal(end.text, 'Found it.');
    assert.deepEqual(end.usage, { input: 30, output: 8, totalTokens: 38 });
    assert.equal(end.messageCount, assistant.describe(KEY)?.messageCount);
    assert.equal(end.messageCount, 4, 'user, assistant (tool call), tool result, assistant');
  });
});
