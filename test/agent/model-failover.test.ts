/**
 * provider.fallbacks end to end: the AgentService over a real model chain
 * (OpenAI-compatible first, Anthropic second, or the other way round) whose
 * models are two fake model servers on 127.0.0.1, and the real session store.
 */

import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { createModelChain } from '../../src/providers/create-provider.js';
import { ModelCooldowns } from '../../src/providers/model-cooldowns.js';
import type { ModelEndpoint } from '../../src/providers/types.js';
import { startFakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeModelServer } from '../helpers/fake-model-server.js';
import { MAIN, startHarness } from './service-harness.js';
import type { Harness } from './service-harness.js';

/** A cooldown long enough that no test outlives it by accident, ms. */
const LONG_COOLDOWN_MS = 60_000;
/** Bound of one turn; generous because the first call of each kind loads its SDK, ms. */
const TURN_WAIT_MS = 30_000;

let first: FakeModelServer;
let second: FakeModelServer;
let harness: Harness | undefined;

before(async () => {
  first = await startFakeModelServer();
  second = await startFakeModelServer();
});
after(async () => {
  await first.close();
  await second.close();
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  first.reset();
  second.reset();
});

function endpoint(kind: 'openai' | 'anthropic', server: FakeModelServer, model: string): ModelEndpoint {
  return { kind, baseUrl: kind === 'openai' ? server.url : server.anthropicUrl, model };
}

interface ChainOptions {
  kinds?: ['openai' | 'anthropic', 'openai' | 'anthropic'];
  timeoutMs?: number;
  maxRetries?: number;
  cooldowns?: ModelCooldowns;
}

async function startChain(options: ChainOptions = {}): Promise<{ h: Harness; cooldowns: ModelCooldowns }> {
  const [kindA, kindB] = options.kinds ?? ['openai', 'anthropic'];
  const cooldowns = options.cooldowns ?? new ModelCooldowns({ baseMs: LONG_COOLDOWN_MS });
  const provider = createModelChain(
    {
      ...endpoint(kindA, first, 'model-a'),
      timeoutMs: options.timeoutMs ?? 5_000,
      maxRetries: options.maxRetries ?? 1,
      fallbacks: [endpoint(kindB, second, 'model-b')],
    },
    cooldowns,
    { retryBaseDelayMs: 1 },
  );
  harness = await startHarness({ provider });
  return { h: harness, cooldowns };
}

async function turn(h: Harness, text: string) {
  const { runId } = await h.agent.submit({ sessionKey: MAIN, text });
  const record = await h.agent.wait(runId, TURN_WAIT_MS);
  assert.notEqual(record?.status, 'running', `run ${runId} did not end within ${TURN_WAIT_MS} ms`);
  const end = await h.runEnd(runId);
  return { runId, end, events: h.runEvents(runId) };
}

describe('model failover across both provider kinds', () => {
  for (const kinds of [['openai', 'anthropic'], ['anthropic', 'openai']] as const) {
    it(`${kinds[0]} → ${kinds[1]}: a 500 after the model's own retries moves the turn to the fallback`, async () => {
      const { h } = await startChain({ kinds: [...kinds] });
      first.setDefault({ status: 500 });
      second.enqueue({ text: ['Answer', ' from B'], usage: { input: 11, output: 7 } });
      const { runId, end, events } = await turn(h, 'hello');
      assert.equal(end.status, 'ok', end.error);
      // One try plus its one retry on model A, then model B.
      assert.equal(first.requests.length, 2);
      assert.equal(second.requests.length, 1);
      const model = events.find((e) => e.type === 'model');
      assert.ok(model?.type === 'model');
      assert.equal(model.provider, kinds[1]);
      assert.equal(model.model, 'model-b');
      assert.equal(model.failedOver?.[0]?.model, 'model-a');
      assert.equal(model.failedOver?.[0]?.status, 500);
      const reply = end.message;
      assert.equal(reply?.provider, kinds[1]);
      assert.equal(reply?.model, 'model-b');
      assert.deepEqual(reply?.usage, { input: 11, output: 7, totalTokens: 18 });
      const record = await h.agent.wait(runId, 1_000);
      assert.equal(record?.model, 'model-b');
      assert.equal(record?.provider, kinds[1]);
      const stored = (await h.store.history(MAIN)).messages.at(-1);
      assert.equal(stored?.model, 'model-b');
      assert.deepEqual(stored?.content, [{ type: 'text', text: 'Answer from B' }]);
    });
  }

  it('a 429 with Retry-After cools the model down for that long: the next turn skips it, a later one returns', async () => {
    const { h, cooldowns } = await startChain({ maxRetries: 0 });
    first.enqueue({ status: 429, retryAfterSeconds: 2 });
    const sentAt = Date.now();
    const one = await turn(h, 'one');
    assert.equal(one.end.status, 'ok', one.end.error);
    assert.equal(one.end.message?.model, 'model-b');
    const state = cooldowns.list()[0];
    assert.ok(state !== undefined, 'the failed model cools down');
    // It ends 2 s after the 429 arrived, which was between sending and now.
    assert.ok(state.until >= sentAt + 2_000 && state.until <= Date.now() + 2_000, `cooldown until ${state.until - sentAt} ms after the send`);
    const remaining = cooldowns.remainingMs(state.key);

    const two = await turn(h, 'two');
    assert.equal(two.end.message?.model, 'model-b');
    assert.equal(first.requests.length, 1, 'the cooling model was not called');

    await new Promise((resolve) => setTimeout(resolve, remaining + 50));
    const three = await turn(h, 'three');
    assert.equal(three.end.message?.model, 'model-a');
    assert.equal(first.requests.length, 2);
    assert.equal(cooldowns.list().length, 0, 'a success clears the cooldown');
  });

  it('a 429 asking for a wait beyond 30 s is not retried on the same model but handed to the fallback at once', async () => {
    const { h, cooldowns } = await startChain({ maxRetries: 2 });
    first.setDefault({ status: 429, retryAfterSeconds: 45 });
    const { end } = await turn(h, 'busy');
    assert.equal(end.message?.model, 'model-b');
    assert.equal(first.requests.length, 1, 'no retry on the same model');
    const remaining = cooldowns.remainingMs(cooldowns.list()[0]?.key ?? '');
    assert.ok(remaining > 30_000 && remaining <= 45_000, `cooldown ${remaining} ms`);
  });

  it('a model whose reply hangs past the timeout is left for the fallback', async () => {
    const { h } = await startChain({ timeoutMs: 300, maxRetries: 0 });
    first.enqueue({ firstByteDelayMs: 5_000, text: 'too late' });
    const { end } = await turn(h, 'hang');
    assert.equal(end.status, 'ok', end.error);
    assert.equal(end.message?.model, 'model-b');
    await first.waitFor((s) => s.stats.aborted === 1, TURN_WAIT_MS);
  });

  it('a 400 the next model would repeat ends the turn without failing over', async () => {
    const { h, cooldowns } = await startChain();
    first.enqueue({ status: 400, errorMessage: 'messages: text content blocks must be non-empty' });
    const { end, events } = await turn(h, 'bad');
    assert.equal(end.status, 'error');
    assert.match(end.error ?? '', /HTTP 400.*non-empty/);
    assert.equal(second.requests.length, 0);
    assert.equal(first.requests.length, 1, 'a rejected request is not retried either');
    assert.equal(events.some((e) => e.type === 'model'), false);
    assert.equal(cooldowns.list().length, 0, 'the model did nothing wrong');
  });

  it('a stream that breaks after text reached clients ends the turn with an error, never mixing two models', async () => {
    const { h, cooldowns } = await startChain();
    first.enqueue({ text: ['Partial', ' answer', ' more'], disconnectAfterChunks: 2 });
    const { end, events } = await turn(h, 'break');
    assert.equal(end.status, 'error');
    assert.match(end.error ?? '', /broke off after it had started.*not continued with another model/);
    assert.equal(second.requests.length, 0, 'the fallback was never asked');
    const deltas = events.filter((e) => e.type === 'text.delta');
    assert.equal(deltas.at(-1)?.type === 'text.delta' && deltas.at(-1)?.text, 'Partial answer');
    assert.deepEqual(end.message?.content, [{ type: 'text', text: 'Partial answer' }]);
    assert.equal(end.message?.model, 'model-a');
    assert.equal(cooldowns.list().length, 1, 'the broken model cools down');
  });

  it('a stream cut before any output fails over like a failed request', async () => {
    const { h } = await startChain({ maxRetries: 0 });
    first.enqueue({ text: ['never', ' seen'], disconnectAfterChunks: 0 });
    const { end } = await turn(h, 'cut early');
    assert.equal(end.status, 'ok', end.error);
    assert.equal(end.message?.model, 'model-b');
  });

  it('when every model fails the error names each failure', async () => {
    const { h } = await startChain({ maxRetries: 0 });
    first.enqueue({ status: 503 });
    second.enqueue({ status: 529 });
    const { end } = await turn(h, 'all down');
    assert.equal(end.status, 'error');
    assert.match(end.error ?? '', /every model of the chain failed/);
    assert.match(end.error ?? '', /model-a: model provider error \(HTTP 503\)/);
    assert.match(end.error ?? '', /model-b: model provider error \(HTTP 529\)/);
  });

  it('with every model cooling down for long, a turn ends at once saying when to retry', async () => {
    const { h } = await startChain({ maxRetries: 0 });
    first.enqueue({ status: 429, retryAfterSeconds: 120 });
    second.enqueue({ status: 429, retryAfterSeconds: 90 });
    await turn(h, 'rate limited');
    const { end } = await turn(h, 'again');
    assert.equal(end.status, 'error');
    assert.match(end.error ?? '', /all 2 configured models are cooling down.*available again in (8\d|90) s/);
    assert.equal(first.requests.length + second.requests.length, 2, 'no model was called for the second turn');
  });
});
