import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { NO_PROVIDER_MESSAGE } from '../../src/agent/run.js';
import type { AgentEvent, RunEvent } from '../../src/agent/types.js';
import { GatewayError } from '../../src/protocol/errors.js';
import { MAIN, startHarness } from './service-harness.js';
import type { Harness } from './service-harness.js';
import { createScriptedProvider, textReply, toolReply } from './scripted-provider.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(...args: Parameters<typeof startHarness>): Promise<Harness> {
  harness = await startHarness(...args);
  return harness;
}

function types(events: RunEvent[]): string[] {
  return events.map((e) => e.type);
}

describe('AgentService.submit', () => {
  it('stores the user message, answers started, then streams the run and persists the reply before run.end', async () => {
    const provider = createScriptedProvider([[{ type: 'pause', ms: 5 }, ...textReply(['Hello', ' from', ' the model'])]]);
    const h = await start({ provider });
    let historyAtEnd: string[] | undefined;
    h.bus.subscribe((event) => {
      if (event.type === 'run.end') {
        void h.store.history(MAIN).then((page) => (historyAtEnd = page.messages.map((m) => m.role)));
      }
    });
    const before = Date.now();
    const result = await h.agent.submit({ sessionKey: MAIN, text: 'Hi there', idempotencyKey: 'run-1' });
    const eventsAtAck = h.runEvents('run-1').length;
    assert.equal(result.runId, 'run-1');
    assert.equal(result.status, 'started');
    assert.equal(eventsAtAck, 0, 'no run event before the submit result');
    assert.deepEqual(result.userMessage?.content, [{ type: 'text', text: 'Hi there' }]);
    assert.ok((result.userMessage?.timestamp ?? 0) >= before);

    const end = await h.runEnd('run-1');
    assert.deepEqual(types(h.runEvents('run-1')), ['run.start', 'text.delta', 'text.delta', 'text.delta', 'usage', 'run.end']);
    const deltas = h.runEvents('run-1').filter((e) => e.type === 'text.delta');
    assert.deepEqual(deltas.map((e) => e.type === 'text.delta' && e.text), ['Hello', 'Hello from', 'Hello from the model']);
    assert.equal(end.status, 'ok');
    assert.equal(end.stopReason, 'stop');
    assert.equal(end.message?.role, 'assistant');
    assert.deepEqual(end.message?.content, [{ type: 'text', text: 'Hello from the model' }]);
    assert.equal(end.message?.runId, 'run-1');
    assert.equal(end.message?.provider, 'scripted');
    assert.equal(end.message?.model, 'scripted-model');
    assert.deepEqual(end.message?.usage, { input: 10, output: 5, totalTokens: 15 });

    const page = await h.store.history(MAIN);
    assert.deepEqual(page.messages.map((m) => m.role), ['user', 'assistant']);
    const [user] = page.messages;
    assert.equal(user?.runId, 'run-1');
    assert.equal(user?.idempotencyKey, 'run-1');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(historyAtEnd, ['user', 'assistant'], 'the reply was on disk when run.end went out');

    const record = await h.agent.wait('run-1', 100);
    assert.equal(record?.status, 'ok');
    assert.equal(record?.text, 'Hello from the model');
    assert.equal(record?.provider, 'scripted');
    assert.ok((record?.endedAt ?? 0) >= (record?.startedAt ?? Infinity));
    // The user message is announced by the assistant façade (test/assistant/assistant.test.ts).
    assert.ok(h.events.some((e) => e.type === 'session.message' && e.message.role === 'assistant'));
  });

  it('sends history and the system prompt to the model', async () => {
    const provider = createScriptedProvider([textReply(['one']), textReply(['two'])]);
    const h = await start({ provider, options: { systemPrompt: 'Be kind.' } });
    await h.agent.submit({ sessionKey: MAIN, text: 'first', idempotencyKey: 'a' });
    await h.runEnd('a');
    await h.agent.submit({ sessionKey: MAIN, text: 'second', idempotencyKey: 'b' });
    await h.runEnd('b');
    const request = provider.requests[1];
    assert.equal(request?.systemPrompt, 'Be kind.');
    assert.deepEqual(
      request?.messages.map((m) => `${m.role}:${m.content.map((b) => (b.type === 'text' ? b.text : '')).join('')}`),
      ['user:first', 'assistant:one', 'user:second'],
    );
  });

  it('stores images first, then the text exactly as received', async () => {
    const h = await start({ provider: createScriptedProvider([textReply(['seen'])]) });
    const text = '  look at this\n';
    const result = await h.agent.submit({ sessionKey: MAIN, text, images: [{ mediaType: 'image/png', data: 'iVBORw0KGgo=' }] });
    assert.deepEqual(result.userMessage?.content, [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'text', text },
    ]);
    await h.runEnd(result.runId);
    const imageOnly = await h.agent.submit({ sessionKey: MAIN, text: '', images: [{ mediaType: 'image/jpeg', data: '/9j/' }] });
    assert.equal(imageOnly.status, 'started');
    assert.deepEqual(imageOnly.userMessage?.content.map((b) => b.type), ['image']);
    await h.runEnd(imageOnly.runId);
  });

  it('rejects empty and oversized messages with INVALID_REQUEST and writes nothing', async () => {
    const h = await start({ provider: createScriptedProvider([textReply(['x'])]), options: { maxMessageChars: 10 } });
    for (const text of ['', '   \n ']) {
      await assert.rejects(h.agent.submit({ sessionKey: MAIN, text }), (e: unknown) => {
        assert.ok(e instanceof GatewayError);
        assert.equal(e.code, 'INVALID_REQUEST');
        assert.match(e.message, /message must not be empty/);
        return true;
      });
    }
    await assert.rejects(h.agent.submit({ sessionKey: MAIN, text: 'x'.repeat(11) }), (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.equal(e.code, 'INVALID_REQUEST');
      assert.equal(e.message, 'message too long: 11 characters (limit 10)');
      return true;
    });
    assert.equal(h.store.get(MAIN), undefined);
    assert.equal(h.events.length, 0);
  });

  it('ends a run at once with a how-to-configure error when no provider is set', async () => {
    const h = await start({ provider: undefined });
    const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'hello?' });
    const end = await h.runEnd(runId);
    assert.equal(end.status, 'error');
    assert.equal(end.error, NO_PROVIDER_MESSAGE);
    for (const name of ['PINCER_PROVIDER', 'PINCER_BASE_URL', 'PINCER_API_KEY', 'PINCER_MODEL', 'config.json']) {
      assert.ok(end.error?.includes(name), `error mentions ${name}`);
    }
    assert.deepEqual(types(h.runEvents(runId)), ['run.start', 'run.end']);
    const page = await h.store.history(MAIN);
    assert.equal(page.messages[1]?.stopReason, 'error');
    assert.equal(page.messages[1]?.errorMessage, NO_PROVIDER_MESSAGE);
    assert.equal((await h.agent.wait(runId, 10))?.error, NO_PROVIDER_MESSAGE);
  });

  it('maps a provider error to a readable run error, persisted in history', async () => {
    const provider = createScriptedProvider([
      [{ type: 'text', delta: 'Par' }, { type: 'error', message: 'model provider rejected the API key (401): check PINCER_API_KEY', status: 401, retryable: false }],
    ]);
    const h = await start({ provider });
    const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'hi' });
    const end = await h.runEnd(runId);
    assert.equal(end.status, 'error');
    assert.equal(end.stopReason, 'error');
    assert.match(end.error ?? '', /401/);
    assert.equal(end.message?.errorMessage, end.error);
    assert.deepEqual(end.message?.content, [{ type: 'text', text: 'Par' }]);
    const page = await h.store.history(MAIN);
    assert.equal(page.messages.at(-1)?.stopReason, 'error');
  });

  it('streams tool calls and results and persists toolCall blocks and toolResult rows', async () => {
    const provider = createScriptedProvider([toolReply([{ id: 'c1', name: 'clock', arguments: { tz: 'UTC' } }]), textReply(['It is noon.'])]);
    const h = await start({
      provider,
      extra: {
        tools: [{ name: 'clock', description: 'time', parameters: { type: 'object' } }],
        executeTool: async () => ({ content: [{ type: 'text', text: '12:00' }] }),
      },
    });
    const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'time?' });
    const end = await h.runEnd(runId);
    assert.equal(end.status, 'ok');
    assert.deepEqual(types(h.runEvents(runId)), ['run.start', 'tool.call', 'usage', 'tool.result', 'text.delta', 'usage', 'run.end']);
    const page = await h.store.history(MAIN);
    assert.deepEqual(page.messages.map((m) => m.role), ['user', 'assistant', 'toolResult', 'assistant']);
    assert.deepEqual(page.messages[1]?.content, [{ type: 'toolCall', id: 'c1', name: 'clock', arguments: { tz: 'UTC' } }]);
    assert.equal(page.messages[2]?.toolCallId, 'c1');
    assert.equal(page.messages[2]?.toolName, 'clock');
    assert.equal(page.messages[2]?.isError, false);
    assert.equal(end.message?.id, page.messages[3]?.id);
    assert.deepEqual(h.agent.getRun(runId)?.usage, { input: 30, output: 8, totalTokens: 38 });
  });
});

describe('AgentService.abort', () => {
  it('cancels the provider stream mid-reply and persists the partial reply as aborted', async () => {
    const provider = createScriptedProvider([[{ type: 'text', delta: 'Hello' }, { type: 'hang' }, ...textReply(['never'])]]);
    const h = await start({ provider });
    const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'go', idempotencyKey: 'ab-1' });
    await h.nextEvent((e) => e.type === 'text.delta' && e.runId === runId);
    assert.deepEqual(h.agent.abort('agent:main:other'), []);
    assert.deepEqual(h.agent.abort(MAIN, runId), [runId]);
    assert.deepEqual(h.agent.abort(MAIN, runId), [], 'a second abort aborts nothing');
    const end = await h.runEnd(runId);
    assert.equal(end.status, 'aborted');
    assert.equal(end.stopReason, 'rpc');
    assert.equal(end.message?.stopReason, 'aborted');
    assert.deepEqual(end.message?.content, [{ type: 'text', text: 'Hello' }]);
    assert.equal(provider.open, 0, 'provider stream closed');
    const page = await h.store.history(MAIN);
    assert.equal(page.messages.at(-1)?.stopReason, 'aborted');
    assert.equal(h.runEvents(runId).filter((e) => e.type === 'run.end').length, 1);
    assert.equal((await h.agent.submit({ sessionKey: MAIN, text: 'go', idempotencyKey: 'ab-1' })).status, 'aborted');
  });

  it('ends a queued run at once when aborted, without waiting for the run ahead', async () => {
    const provider = createScriptedProvider([[{ type: 'hang' }]]);
    const h = await start({ provider });
    const first = await h.agent.submit({ sessionKey: MAIN, text: 'one' });
    const second = await h.agent.submit({ sessionKey: MAIN, text: 'two' });
    await h.nextEvent((e) => e.type === 'run.start' && e.runId === first.runId);
    assert.deepEqual(h.agent.abort(MAIN, second.runId), [second.runId]);
    const end = await h.runEnd(second.runId);
    assert.equal(end.status, 'aborted');
    assert.equal(h.agent.getRun(first.runId)?.status, 'running');
    assert.deepEqual(h.agent.abort(MAIN).sort(), [first.runId]);
    assert.equal((await h.runEnd(first.runId)).status, 'aborted');
    assert.equal(provider.requests.length, 1, 'the aborted queued run never called the model');
  });
});

describe('AgentService scheduling', () => {
  it('runs two sessions concurrently', async () => {
    let peak = 0;
    const provider = createScriptedProvider([
      () => {
        peak = Math.max(peak, provider.open + 1);
        return [{ type: 'pause', ms: 150 }, ...textReply(['done'])];
      },
    ]);
    const h = await start({ provider });
    const started = Date.now();
    const a = await h.agent.submit({ sessionKey: MAIN, text: 'a' });
    const b = await h.agent.submit({ sessionKey: 'agent:main:second', text: 'b' });
    await Promise.all([h.runEnd(a.runId), h.runEnd(b.runId)]);
    assert.equal(peak, 2);
    assert.ok(Date.now() - started < 290, 'the second session did not wait for the first');
  });

  it('queues a turn that arrives during a run of the same session and runs it after, in order', async () => {
    const provider = createScriptedProvider([
      [{ type: 'pause', ms: 60 }, ...textReply(['first reply'])],
      textReply(['second reply']),
    ]);
    const h = await start({ provider });
    const first = await h.agent.submit({ sessionKey: MAIN, text: 'one' });
    await h.nextEvent((e) => e.type === 'run.start' && e.runId === first.runId);
    const second = await h.agent.submit({ sessionKey: MAIN, text: 'two' });
    assert.equal(h.agent.activeRuns().length, 2);
    await h.runEnd(second.runId);
    const order = h.events.filter((e): e is RunEvent => (e.type === 'run.start' || e.type === 'run.end')).map((e) => `${e.type}:${e.runId === first.runId ? 1 : 2}`);
    assert.deepEqual(order, ['run.start:1', 'run.end:1', 'run.start:2', 'run.end:2']);
    const texts = provider.requests[1]?.messages.map((m) => m.content.map((b) => (b.type === 'text' ? b.text : '')).join(''));
    assert.deepEqual(texts, ['one', 'first reply', 'two']);
    assert.equal(h.agent.activeRuns().length, 0);
  });

  it('caps concurrent sessions at maxConcurrentRuns', async () => {
    let peak = 0;
    const provider = createScriptedProvider([
      () => {
        peak = Math.max(peak, provider.open + 1);
        return [{ type: 'pause', ms: 20 }, ...textReply(['ok'])];
      },
    ]);
    const h = await start({ provider, options: { maxConcurrentRuns: 2 } });
    const runs = await Promise.all([1, 2, 3, 4, 5].map((n) => h.agent.submit({ sessionKey: `agent:main:s${n}`, text: 'hi' })));
    const ends = await Promise.all(runs.map((r) => h.runEnd(r.runId)));
    assert.ok(ends.every((e) => e.status === 'ok'));
    assert.equal(peak, 2);
  });
});

describe('AgentService idempotency', () => {
  it('answers a repeated key after completion with the recorded status and starts nothing', async () => {
    const h = await start({ provider: createScriptedProvider([textReply(['once'])]) });
    await h.agent.submit({ sessionKey: MAIN, text: 'hi', idempotencyKey: 'k1' });
    await h.runEnd('k1');
    const eventsBefore = h.events.length;
    const again = await h.agent.submit({ sessionKey: MAIN, text: 'hi', idempotencyKey: 'k1' });
    assert.deepEqual(again, { runId: 'k1', status: 'ok' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(h.events.length, eventsBefore, 'no events');
    assert.deepEqual((await h.store.history(MAIN)).messages.map((m) => m.role), ['user', 'assistant']);
  });

  it('answers in_flight while the run goes on', async () => {
    const h = await start({ provider: createScriptedProvider([[{ type: 'pause', ms: 50 }, ...textReply(['x'])]]) });
    await h.agent.submit({ sessionKey: MAIN, text: 'hi', idempotencyKey: 'k2' });
    assert.deepEqual(await h.agent.submit({ sessionKey: MAIN, text: 'hi', idempotencyKey: 'k2' }), { runId: 'k2', status: 'in_flight' });
    await h.runEnd('k2');
  });

  it('starts exactly one run and stores one user message for 10 concurrent duplicates', async () => {
    const provider = createScriptedProvider([textReply(['only once'])]);
    const h = await start({ provider });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => h.agent.submit({ sessionKey: MAIN, text: 'same', idempotencyKey: 'k3' })),
    );
    assert.equal(results.filter((r) => r.status === 'started').length, 1);
    assert.equal(results.filter((r) => r.status === 'in_flight').length, 9);
    await h.runEnd('k3');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(provider.requests.length, 1);
    const page = await h.store.history(MAIN);
    assert.deepEqual(page.messages.map((m) => m.role), ['user', 'assistant']);
    assert.equal(h.events.filter((e: AgentEvent) => e.type === 'run.start').length, 1);
  });

  it('refuses the same key with a different session or text', async () => {
    const h = await start({ provider: createScriptedProvider([textReply(['x'])]) });
    await h.agent.submit({ sessionKey: MAIN, text: 'hi', idempotencyKey: 'k4' });
    for (const turn of [
      { sessionKey: 'agent:main:elsewhere', text: 'hi' },
      { sessionKey: MAIN, text: 'hi!' },
    ]) {
      await assert.rejects(h.agent.submit({ ...turn, idempotencyKey: 'k4' }), (e: unknown) => {
        assert.ok(e instanceof GatewayError);
        assert.equal(e.code, 'INVALID_REQUEST');
        assert.equal(e.message, 'idempotency key reused with different parameters');
        assert.deepEqual(e.details, { code: 'IDEMPOTENCY_CONFLICT' });
        return true;
      });
    }
    await h.runEnd('k4');
    assert.equal(h.store.get('agent:main:elsewhere'), undefined);
  });
});

describe('AgentService.wait', () => {
  it('waits for the end, times out with the live record, and knows nothing of unknown runs', async () => {
    const h = await start({ provider: createScriptedProvider([[{ type: 'pause', ms: 80 }, ...textReply(['late'])]]) });
    const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'hi' });
    const early = await h.agent.wait(runId, 10);
    assert.equal(early?.status, 'running');
    const done = await h.agent.wait(runId, 5_000);
    assert.equal(done?.status, 'ok');
    assert.equal(done?.text, 'late');
    assert.equal(await h.agent.wait('no-such-run', 10), undefined);
    assert.equal(h.agent.getRun('no-such-run'), undefined);
  });
});
