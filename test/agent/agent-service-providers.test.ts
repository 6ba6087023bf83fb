/**
 * The AgentService end to end with the real providers (OpenAI-compatible and
 * Anthropic) against the fake model server on 127.0.0.1, and the real
 * FileSessionStore. The same suite runs for both wire formats.
 */

import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { createProvider } from '../../src/providers/create-provider.js';
import type { ProviderConfig } from '../../src/providers/types.js';
import { startFakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeModelServer } from '../helpers/fake-model-server.js';
import { MAIN, startHarness } from './service-harness.js';
import type { Harness } from './service-harness.js';

const API_KEY = 'sk-test-agent';

for (const kind of ['openai', 'anthropic'] as const) {
  describe(`AgentService with the ${kind} provider`, () => {
    let server: FakeModelServer;
    let harness: Harness | undefined;

    before(async () => {
      server = await startFakeModelServer({ apiKey: API_KEY });
    });
    after(async () => {
      await server.close();
    });
    afterEach(async () => {
      await harness?.close();
      harness = undefined;
      server.reset();
    });

    async function start(config: Partial<ProviderConfig> = {}, tools = false): Promise<Harness> {
      const provider = createProvider(
        {
          kind,
          baseUrl: kind === 'openai' ? server.url : server.anthropicUrl,
          apiKey: API_KEY,
          model: 'fake-model',
          timeoutMs: 5_000,
          maxRetries: 0,
          ...config,
        },
        { retryBaseDelayMs: 1 },
      );
      harness = await startHarness({
        provider,
        extra: tools
          ? {
              tools: [{ name: 'add', description: 'adds numbers', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } }],
              executeTool: async (call) => ({ content: [{ type: 'text', text: String(Number(call.arguments.a) + Number(call.arguments.b)) }] }),
            }
          : {},
      });
      return harness;
    }

    it('streams a reply end to end and persists it', async () => {
      const h = await start();
      server.enqueue({ text: ['Hello', ' from', ' the fake'], chunkDelayMs: 5 });
      const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'hi' });
      const end = await h.runEnd(runId);
      assert.equal(end.status, 'ok', end.error);
      const deltas = h.runEvents(runId).filter((e) => e.type === 'text.delta');
      assert.equal(deltas.at(-1)?.type === 'text.delta' && deltas.at(-1)?.text, 'Hello from the fake');
      assert.ok(deltas.length >= 3);
      const start0 = h.runEvents(runId)[0];
      assert.equal(start0?.type === 'run.start' && start0.provider, kind);
      assert.equal(start0?.type === 'run.start' && start0.model, 'fake-model');
      const page = await h.store.history(MAIN);
      assert.deepEqual(page.messages[1]?.content, [{ type: 'text', text: 'Hello from the fake' }]);
      assert.ok((page.messages[1]?.usage?.output ?? 0) > 0);
      // The model saw the user's text.
      assert.match(JSON.stringify(server.requests[0]?.body.messages), /"hi"/);
    });

    it('aborts mid-stream: the HTTP stream is cancelled and the partial reply persisted', async () => {
      const h = await start();
      server.enqueue({ text: ['one', ' two', ' three', ' four', ' five'], chunkDelayMs: 300 });
      const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'count' });
      await h.nextEvent((e) => e.type === 'text.delta' && e.runId === runId);
      assert.deepEqual(h.agent.abort(MAIN), [runId]);
      const end = await h.runEnd(runId);
      assert.equal(end.status, 'aborted');
      assert.equal(end.stopReason, 'rpc');
      assert.equal(end.message?.stopReason, 'aborted');
      assert.match(JSON.stringify(end.message?.content), /one/);
      await server.waitFor((s) => s.stats.aborted === 1);
      const page = await h.store.history(MAIN);
      assert.equal(page.messages.at(-1)?.stopReason, 'aborted');
    });

    it('runs a tool call from the model and feeds the result back', async () => {
      const h = await start({}, true);
      server.enqueue({ toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }] }, { text: 'The sum is 5.' });
      const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'add 2 and 3' });
      const end = await h.runEnd(runId);
      assert.equal(end.status, 'ok', end.error);
      assert.deepEqual(end.message?.content, [{ type: 'text', text: 'The sum is 5.' }]);
      const page = await h.store.history(MAIN);
      assert.deepEqual(page.messages.map((m) => m.role), ['user', 'assistant', 'toolResult', 'assistant']);
      assert.deepEqual(page.messages[2]?.content, [{ type: 'text', text: '5' }]);
      assert.match(JSON.stringify(server.requests[1]?.body.messages), /"5"/);
    });

    const failures: { name: string; script?: Parameters<FakeModelServer['enqueue']>[0]; config?: Partial<ProviderConfig>; expect: RegExp }[] = [
      { name: 'a bad API key', config: { apiKey: 'wrong' }, expect: /rejected the API key \(HTTP 401\): check PINCER_API_KEY/ },
      { name: 'an unknown model', script: { status: 404 }, expect: /model not found: fake-model \(HTTP 404\)/ },
      { name: 'a rate limit', script: { status: 429 }, expect: /rate limited by the model provider \(HTTP 429\)/ },
      { name: 'a server error', script: { status: 500 }, expect: /model provider error \(HTTP 500\)/ },
      { name: 'a mid-stream cut', script: { text: ['a', 'b', 'c'], disconnectAfterChunks: 1 }, expect: /ended unexpectedly|cannot reach|model/ },
      { name: 'an in-stream error', script: { text: ['a'], streamError: 'Overloaded' }, expect: /Overloaded/ },
      { name: 'an unreachable endpoint', config: { baseUrl: 'http://127.0.0.1:9/v1' }, expect: /cannot reach the model provider/ },
      { name: 'a slow first byte past the timeout', script: { text: 'late', firstByteDelayMs: 1_500 }, config: { timeoutMs: 200 }, expect: /timed out after 200 ms/ },
    ];
    for (const failure of failures) {
      it(`ends the run with a readable error on ${failure.name}`, async () => {
        const h = await start(failure.config);
        if (failure.script !== undefined) server.enqueue(failure.script);
        const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'hi' });
        const end = await h.runEnd(runId);
        assert.equal(end.status, 'error');
        assert.match(end.error ?? '', failure.expect);
        assert.doesNotMatch(end.error ?? '', /sk-test|wrong/, 'no key in the message');
        const page = await h.store.history(MAIN);
        assert.equal(page.messages.at(-1)?.role, 'assistant');
        assert.equal(page.messages.at(-1)?.stopReason, 'error');
        assert.equal(page.messages.at(-1)?.errorMessage, end.error);
      });
    }
  });
}
