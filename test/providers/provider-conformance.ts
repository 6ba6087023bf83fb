/**
 * The conformance suite every Provider implementation must pass, run against
 * the fake model server (style.md §6, one suite per interface). Each provider's
 * test file calls runProviderSuite() with a factory and its wire expectations.
 */

import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ModelRequest, Provider, ProviderEvent } from '../../src/providers/types.js';
import { startFakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeModelServer } from '../helpers/fake-model-server.js';

export interface SuiteProviderSettings {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
}

export interface ProviderSuiteOptions {
  name: string;
  /** The provider's base URL for a server on 127.0.0.1:`port`. */
  baseUrlOf(port: number): string;
  create(settings: SuiteProviderSettings): Provider;
  /** Assert the exact wire body the provider sent for MAPPING_REQUEST. */
  checkRequestMapping(body: Record<string, unknown>, model: string): void;
}

export const SUITE_MODEL = 'fake-model-1';
/** Bound on any single provider call in this suite, ms. */
const CALL_LIMIT_MS = 5_000;
const HELLO: ModelRequest = { messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] };

/** A context with everything a mapping must handle: system prompt, image, thinking, tool calls and results. */
export const MAPPING_REQUEST: ModelRequest = {
  systemPrompt: 'You are Pincer.',
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'private reasoning' },
        { type: 'text', text: 'Let me look.' },
        { type: 'toolCall', id: 'call_1', name: 'read_file', arguments: { path: 'a.txt' } },
        { type: 'toolCall', id: 'call_2', name: 'list_dir', arguments: {} },
      ],
    },
    { role: 'toolResult', toolCallId: 'call_1', toolName: 'read_file', content: [{ type: 'text', text: 'file body' }], isError: false },
    { role: 'toolResult', toolCallId: 'call_2', toolName: 'list_dir', content: [{ type: 'text', text: 'no such dir' }], isError: true },
    { role: 'assistant', content: [{ type: 'text', text: 'It is a cat.' }] },
    { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
  ],
  tools: [
    {
      name: 'read_file',
      description: 'Read a file',
      parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    },
  ],
  maxOutputTokens: 512,
};

/** Drain a stream, checking the contract: no rejection, exactly one terminal event, and it is last. */
export async function collect(provider: Provider, request: ModelRequest, signal = new AbortController().signal): Promise<ProviderEvent[]> {
  const events: ProviderEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`provider call took more than ${CALL_LIMIT_MS} ms`)), CALL_LIMIT_MS);
  });
  const drain = (async () => {
    for await (const event of provider.stream(request, signal)) events.push(event);
  })();
  try {
    await Promise.race([drain, limit]);
  } finally {
    clearTimeout(timer);
  }
  assertOneTerminal(events);
  return events;
}

export function assertOneTerminal(events: ProviderEvent[]): void {
  const terminals = events.filter((event) => event.type === 'done' || event.type === 'error' || event.type === 'aborted');
  assert.equal(terminals.length, 1, `exactly one terminal event expected, got ${JSON.stringify(events)}`);
  assert.equal(events.at(-1), terminals[0], 'the terminal event must be last');
}

export function texts(events: ProviderEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'text' ? [event.delta] : []));
}

export function last(events: ProviderEvent[]): ProviderEvent {
  const event = events.at(-1);
  assert.ok(event, 'no events');
  return event;
}

/** The terminal error event; fails the test when the call did not end with an error. */
export function errorOf(events: ProviderEvent[]): Extract<ProviderEvent, { type: 'error' }> {
  const event = last(events);
  assert.ok(event.type === 'error', `expected an error, got ${JSON.stringify(event)}`);
  return event;
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Register the suite for one provider implementation. */
export function runProviderSuite(options: ProviderSuiteOptions): void {
  describe(`${options.name} provider (conformance)`, () => {
    let server: FakeModelServer;
    const make = (overrides: Partial<SuiteProviderSettings> = {}): Provider =>
      options.create({
        baseUrl: options.baseUrlOf(server.port),
        model: SUITE_MODEL,
        apiKey: 'test-key',
        timeoutMs: 2_000,
        maxRetries: 2,
        retryBaseDelayMs: 1,
        ...overrides,
      });

    before(async () => {
      server = await startFakeModelServer();
    });
    afterEach(() => server.reset());
    after(async () => {
      await server.close();
    });

    describe('streaming', () => {
      it('streams text deltas in order and ends with done', async () => {
        server.enqueue({ text: ['Hel', 'lo', ', wor', 'ld'] });
        const events = await collect(make(), HELLO);
        assert.deepEqual(texts(events), ['Hel', 'lo', ', wor', 'ld']);
        assert.deepEqual(last(events), { type: 'done', stopReason: 'stop' });
      });

      it('reports token usage before done', async () => {
        server.enqueue({ text: 'ok', usage: { input: 11, output: 7, cacheRead: 3 } });
        const events = await collect(make(), HELLO);
        const usage = events.filter((event) => event.type === 'usage');
        assert.deepEqual(usage, [{ type: 'usage', usage: { input: 11, output: 7, totalTokens: 21, cacheRead: 3 } }]);
        assert.equal(events.at(-2)?.type, 'usage');
      });

      it('streams thinking before text', async () => {
        server.enqueue({ thinking: ['Let me', ' think.'], text: 'Answer.' });
        const events = await collect(make(), HELLO);
        const kinds = events.filter((event) => event.type === 'thinking' || event.type === 'text');
        assert.deepEqual(kinds, [
          { type: 'thinking', delta: 'Let me' },
          { type: 'thinking', delta: ' think.' },
          { type: 'text', delta: 'Answer.' },
        ]);
      });

      it('ends with length when the output cap is reached', async () => {
        server.enqueue({ text: 'trunc', stopReason: 'length' });
        const events = await collect(make(), HELLO);
        assert.deepEqual(last(events), { type: 'done', stopReason: 'length' });
      });

      it('delivers a slow first byte that is within the timeout', async () => {
        server.enqueue({ text: 'late', firstByteDelayMs: 100 });
        const events = await collect(make({ timeoutMs: 1_000 }), HELLO);
        assert.deepEqual(texts(events), ['late']);
      });
    });

    describe('tool calls', () => {
      it('surfaces a tool call with parsed arguments and stops for tool use', async () => {
        server.enqueue({
          text: 'Reading it.',
          toolCalls: [{ id: 'call_a', name: 'read_file', arguments: { path: 'notes/today.md', limit: 20 } }],
        });
        const events = await collect(make(), HELLO);
        const calls = events.filter((event) => event.type === 'toolCall');
        assert.deepEqual(calls, [
          {
            type: 'toolCall',
            id: 'call_a',
            name: 'read_file',
            arguments: { path: 'notes/today.md', limit: 20 },
            rawArguments: '{"path":"notes/today.md","limit":20}',
          },
        ]);
        assert.deepEqual(texts(events), ['Reading it.']);
        assert.deepEqual(last(events), { type: 'done', stopReason: 'toolUse' });
      });

      it('surfaces parallel tool calls of one turn in order', async () => {
        server.enqueue({
          toolCalls: [
            { id: 'call_1', name: 'read_file', arguments: { path: 'a.txt' } },
            { id: 'call_2', name: 'read_file', arguments: { path: 'b.txt' } },
            { id: 'call_3', name: 'list_dir', arguments: { path: '.' } },
          ],
        });
        const events = await collect(make(), HELLO);
        const calls = events.flatMap((event) => (event.type === 'toolCall' ? [[event.id, event.name, event.arguments]] : []));
        assert.deepEqual(calls, [
          ['call_1', 'read_file', { path: 'a.txt' }],
          ['call_2', 'read_file', { path: 'b.txt' }],
          ['call_3', 'list_dir', { path: '.' }],
        ]);
        assert.deepEqual(last(events), { type: 'done', stopReason: 'toolUse' });
      });

      it('reports invalid tool JSON as null arguments with the raw text', async () => {
        server.enqueue({ toolCalls: [{ id: 'call_x', name: 'write_file', arguments: '{"path": "a.txt", "content": ' }] });
        const events = await collect(make(), HELLO);
        const call = events.find((event) => event.type === 'toolCall');
        assert.deepEqual(call, {
          type: 'toolCall',
          id: 'call_x',
          name: 'write_file',
          arguments: null,
          rawArguments: '{"path": "a.txt", "content": ',
        });
        assert.equal(last(events).type, 'done');
      });

      it('treats JSON that is not an object as invalid arguments', async () => {
        server.enqueue({ toolCalls: [{ id: 'call_y', name: 'list_dir', arguments: '[1,2]' }] });
        const events = await collect(make(), HELLO);
        const call = events.find((event) => event.type === 'toolCall');
        assert.equal(call?.type === 'toolCall' ? call.arguments : 'missing', null);
      });

      it('gives a call without arguments an empty object', async () => {
        server.enqueue({ toolCalls: [{ id: 'call_z', name: 'list_dir', arguments: '' }] });
        const events = await collect(make(), HELLO);
        const call = events.find((event) => event.type === 'toolCall');
        assert.deepEqual(call?.type === 'toolCall' ? call.arguments : 'missing', {});
      });
    });

    describe('HTTP errors', () => {
      it('401: names the API key and is not retried', async () => {
        server.enqueue({ status: 401 });
        const events = await collect(make(), HELLO);
        assert.deepEqual(events, [
          {
            type: 'error',
            message: 'model provider rejected the API key (HTTP 401): check PINCER_API_KEY',
            status: 401,
            retryable: false,
          },
        ]);
        assert.equal(server.requests.length, 1);
      });

      it('401 from a server that checks the key', async () => {
        const guarded = await startFakeModelServer({ apiKey: 'right-key' });
        try {
          const wrong = await collect(make({ baseUrl: options.baseUrlOf(guarded.port), apiKey: 'wrong-key' }), HELLO);
          assert.equal(errorOf(wrong).status, 401);
          const keyless = await collect(make({ baseUrl: options.baseUrlOf(guarded.port), apiKey: undefined }), HELLO);
          assert.equal(errorOf(keyless).status, 401);
          const right = await collect(make({ baseUrl: options.baseUrlOf(guarded.port), apiKey: 'right-key' }), HELLO);
          assert.equal(last(right).type, 'done');
        } finally {
          await guarded.close();
        }
      });

      it('404: names the model', async () => {
        server.enqueue({ status: 404 });
        const events = await collect(make(), HELLO);
        assert.deepEqual(events, [
          { type: 'error', message: `model not found: ${SUITE_MODEL} (HTTP 404)`, status: 404, retryable: false },
        ]);
      });

      it('400: quotes the provider message and is not retried', async () => {
        server.enqueue({ status: 400, errorMessage: 'messages.0: content is empty' });
        const events = await collect(make(), HELLO);
        assert.deepEqual(events, [
          {
            type: 'error',
            message: 'model provider rejected the request (HTTP 400): messages.0: content is empty',
            status: 400,
            retryable: false,
            requestRejected: true,
          },
        ]);
        assert.equal(server.requests.length, 1);
      });

      it('429: retried with backoff, then succeeds', async () => {
        server.enqueue({ status: 429, failTimes: 2, text: 'finally' });
        const events = await collect(make({ maxRetries: 2 }), HELLO);
        assert.deepEqual(texts(events), ['finally']);
        assert.equal(last(events).type, 'done');
        assert.equal(server.requests.length, 3);
      });

      it('429: retried, then fails with a rate-limit error', async () => {
        server.enqueue({ status: 429, failTimes: 10 });
        const events = await collect(make({ maxRetries: 2 }), HELLO);
        assert.deepEqual(events, [
          { type: 'error', message: 'rate limited by the model provider (HTTP 429)', status: 429, retryable: true },
        ]);
        assert.equal(server.requests.length, 3);
      });

      it('429: waits as long as retry-after-ms asks', async () => {
        server.enqueue({ status: 429, failTimes: 1, retryAfterMs: 150, text: 'ok' });
        const started = performance.now();
        const events = await collect(make({ retryBaseDelayMs: 1 }), HELLO);
        assert.ok(performance.now() - started >= 140, 'the retry came before retry-after-ms');
        assert.deepEqual(texts(events), ['ok']);
      });

      it('500: retried, then reported as a provider error', async () => {
        server.enqueue({ status: 500, failTimes: 10 });
        const events = await collect(make({ maxRetries: 1 }), HELLO);
        assert.deepEqual(events, [{ type: 'error', message: 'model provider error (HTTP 500)', status: 500, retryable: true }]);
        assert.equal(server.requests.length, 2);
      });

      it('maxRetries 0 makes exactly one request', async () => {
        server.enqueue({ status: 503, failTimes: 10 });
        const events = await collect(make({ maxRetries: 0 }), HELLO);
        assert.equal(last(events).type, 'error');
        assert.equal(server.requests.length, 1);
      });
    });

    describe('network and stream failures', () => {
      it('an unreachable endpoint names the URL and the reason', async () => {
        const port = await closedPort();
        const events = await collect(make({ baseUrl: options.baseUrlOf(port), maxRetries: 1 }), HELLO);
        const event = errorOf(events);
        assert.ok(
          event.message.startsWith(`cannot reach the model provider at ${options.baseUrlOf(port)}: `),
          event.message,
        );
        assert.match(event.message, /ECONNREFUSED/);
        assert.equal(event.retryable, true);
      });

      it('a mid-stream disconnect keeps the text so far and ends with an error', async () => {
        server.enqueue({ text: ['one', ' two', ' three', ' four'], disconnectAfterChunks: 2 });
        const events = await collect(make(), HELLO);
        assert.deepEqual(texts(events), ['one', ' two']);
        assert.deepEqual(last(events), { type: 'error', message: 'model stream ended unexpectedly', retryable: true });
        // Output was already delivered, so a retry would duplicate it.
        assert.equal(server.requests.length, 1);
        await server.waitFor((s) => s.stats.disconnected === 1);
      });

      it('a disconnect before any output is retried', async () => {
        server.enqueue({ text: 'lost', disconnectAfterChunks: 0 }, { text: 'second try' });
        const events = await collect(make(), HELLO);
        assert.equal(last(events).type, 'done');
        assert.ok(texts(events).join('').endsWith('second try'));
      });

      it('an error event inside the stream ends the call with its message', async () => {
        server.enqueue({ text: ['partial'], streamError: 'Overloaded' });
        const events = await collect(make(), HELLO);
        assert.deepEqual(texts(events), ['partial']);
        const event = errorOf(events);
        assert.ok(event.message.includes('Overloaded'), event.message);
      });

      it('a slow first byte times out, is not retried, and the connection is closed', async () => {
        server.enqueue({ text: 'too late', firstByteDelayMs: 1_500 });
        const started = performance.now();
        const events = await collect(make({ timeoutMs: 100, maxRetries: 2 }), HELLO);
        const elapsed = performance.now() - started;
        assert.deepEqual(events, [{ type: 'error', message: 'model request timed out after 100 ms', retryable: true }]);
        assert.ok(elapsed < 1_000, `timed out after ${elapsed} ms`);
        assert.equal(server.requests.length, 1);
        await server.waitFor((s) => s.stats.aborted === 1);
      });

      it('a stream that stalls between chunks times out', async () => {
        server.enqueue({ text: ['first', 'never'], chunkDelayMs: 1_500 });
        const events = await collect(make({ timeoutMs: 150 }), HELLO);
        assert.deepEqual(texts(events), ['first']);
        assert.deepEqual(last(events), { type: 'error', message: 'model request timed out after 150 ms', retryable: true });
        await server.waitFor((s) => s.stats.aborted === 1);
      });
    });

    describe('abort', () => {
      it('mid-stream: ends with aborted quickly and the server sees the connection closed', async () => {
        server.enqueue({ text: Array.from({ length: 40 }, (_, i) => `w${i} `), chunkDelayMs: 30 });
        const controller = new AbortController();
        const events: ProviderEvent[] = [];
        let abortedAt = 0;
        for await (const event of make().stream(HELLO, controller.signal)) {
          events.push(event);
          if (texts(events).length === 2 && abortedAt === 0) {
            abortedAt = performance.now();
            controller.abort();
          }
        }
        const latency = performance.now() - abortedAt;
        assertOneTerminal(events);
        assert.deepEqual(last(events), { type: 'aborted' });
        assert.ok(texts(events).length < 40);
        assert.ok(latency < 500, `aborted event after ${latency} ms`);
        await server.waitFor((s) => s.stats.aborted === 1 && s.stats.inFlight === 0);
      });

      it('before the first byte: ends with aborted and closes the request', async () => {
        server.enqueue({ text: 'never', firstByteDelayMs: 3_000 });
        const controller = new AbortController();
        const pending = collect(make(), HELLO, controller.signal);
        await server.waitFor((s) => s.requests.length === 1, CALL_LIMIT_MS);
        const started = performance.now();
        controller.abort();
        const events = await pending;
        assert.deepEqual(events, [{ type: 'aborted' }]);
        assert.ok(performance.now() - started < 500);
        await server.waitFor((s) => s.stats.aborted === 1);
      });

      it('an already aborted signal sends nothing', async () => {
        const controller = new AbortController();
        controller.abort();
        const events = await collect(make(), HELLO, controller.signal);
        assert.deepEqual(events, [{ type: 'aborted' }]);
        assert.equal(server.requests.length, 0);
      });

      it('during the retry backoff: ends with aborted without waiting', async () => {
        server.enqueue({ status: 503, failTimes: 10 });
        const controller = new AbortController();
        const provider = make({ retryBaseDelayMs: 10_000, maxRetries: 3 });
        const pending = collect(provider, HELLO, controller.signal);
        await server.waitFor((s) => s.requests.length === 1, CALL_LIMIT_MS);
        const started = performance.now();
        controller.abort();
        const events = await pending;
        assert.deepEqual(events, [{ type: 'aborted' }]);
        assert.ok(performance.now() - started < 500);
        assert.equal(server.requests.length, 1);
      });

      it('stopping the iteration early closes the connection', async () => {
        server.enqueue({ text: Array.from({ length: 40 }, (_, i) => `w${i} `), chunkDelayMs: 30 });
        for await (const event of make().stream(HELLO, new AbortController().signal)) {
          if (event.type === 'text') break;
        }
        await server.waitFor((s) => s.stats.aborted === 1 && s.stats.inFlight === 0);
      });
    });

    describe('request mapping', () => {
      it('sends the system prompt, history, tool calls and results, images and tools', async () => {
        server.enqueue({ text: 'ok' });
        const events = await collect(make(), MAPPING_REQUEST);
        assert.equal(last(events).type, 'done');
        assert.equal(server.requests.length, 1);
        options.checkRequestMapping(server.requests[0].body, SUITE_MODEL);
      });

      it('sends the API key and no key at all when none is configured', async () => {
        await collect(make({ apiKey: 'sk-secret-1' }), HELLO);
        await collect(make({ apiKey: undefined }), HELLO);
        const [withKey, withoutKey] = server.requests;
        assert.ok(
          withKey.headers.authorization === 'Bearer sk-secret-1' || withKey.headers['x-api-key'] === 'sk-secret-1',
          'key not sent',
        );
        assert.equal(withoutKey.headers.authorization, undefined);
        assert.equal(withoutKey.headers['x-api-key'], undefined);
      });
    });
  });
}
