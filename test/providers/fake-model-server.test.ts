import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeModelServer } from '../helpers/fake-model-server.js';

const OPENAI_BODY = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const ANTHROPIC_BODY = { model: 'c', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

async function post(url: string, body: unknown): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

describe('fake model server', () => {
  let server: FakeModelServer;
  before(async () => {
    server = await startFakeModelServer();
  });
  afterEach(() => server.reset());
  after(async () => {
    await server.close();
  });

  it('streams OpenAI SSE chunks ending with [DONE], usage only on request', async () => {
    server.enqueue({ text: ['a', 'b'] }, { text: 'c' });
    const plain = await post(`${server.url}/chat/completions`, { ...OPENAI_BODY, stream: true });
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = plain.text.split('\n\n').filter(Boolean);
    assert.ok(events.every((event) => event.startsWith('data: ')));
    assert.equal(events.at(-1), 'data: [DONE]');
    assert.doesNotMatch(plain.text, /"usage"/);
    const withUsage = await post(`${server.url}/chat/completions`, {
      ...OPENAI_BODY,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.match(withUsage.text, /"choices":\[\],"usage":\{"prompt_tokens"/);
  });

  it('streams Anthropic SSE with named events from message_start to message_stop', async () => {
    server.enqueue({ text: 'hi' });
    const reply = await post(`${server.anthropicUrl}/v1/messages`, { ...ANTHROPIC_BODY, stream: true });
    const names = reply.text
      .split('\n\n')
      .filter(Boolean)
      .map((event) => event.split('\n')[0]);
    assert.deepEqual(names, [
      'event: message_start',
      'event: ping',
      'event: content_block_start',
      'event: content_block_delta',
      'event: content_block_stop',
      'event: message_delta',
      'event: message_stop',
    ]);
  });

  it('answers without streaming when stream is not set', async () => {
    server.enqueue({ text: 'whole', toolCalls: [{ id: 'c1', name: 'f', arguments: { a: 1 } }] }, { text: 'whole' });
    const openai = JSON.parse((await post(`${server.url}/chat/completions`, OPENAI_BODY)).text);
    assert.equal(openai.choices[0].message.content, 'whole');
    assert.equal(openai.choices[0].message.tool_calls[0].function.arguments, '{"a":1}');
    assert.equal(openai.choices[0].finish_reason, 'tool_calls');
    const anthropic = JSON.parse((await post(`${server.anthropicUrl}/v1/messages`, ANTHROPIC_BODY)).text);
    assert.deepEqual(anthropic.content, [{ type: 'text', text: 'whole' }]);
    assert.equal(anthropic.stop_reason, 'end_turn');
  });

  it('records each request and lets a function script read it', async () => {
    server.enqueue((request) => ({ text: `seen ${request.api} ${String(request.body.model)}` }));
    const reply = JSON.parse((await post(`${server.url}/chat/completions`, OPENAI_BODY)).text);
    assert.equal(reply.choices[0].message.content, 'seen openai m');
    assert.equal(server.requests.length, 1);
    assert.deepEqual(server.requests[0].body, OPENAI_BODY);
    assert.equal(server.requests[0].path, '/v1/chat/completions');
  });

  it('fails failTimes times with the status, then replies; then the default applies', async () => {
    server.setDefault({ text: 'default' });
    server.enqueue({ status: 429, failTimes: 2, text: 'scripted', retryAfterMs: 5 });
    const first = await post(`${server.url}/chat/completions`, OPENAI_BODY);
    const second = await post(`${server.url}/chat/completions`, OPENAI_BODY);
    const third = await post(`${server.url}/chat/completions`, OPENAI_BODY);
    const fourth = await post(`${server.url}/chat/completions`, OPENAI_BODY);
    assert.deepEqual([first.status, second.status, third.status, fourth.status], [429, 429, 200, 200]);
    assert.equal(first.headers.get('retry-after-ms'), '5');
    assert.equal(JSON.parse(first.text).error.code, 'rate_limit_exceeded');
    assert.equal(JSON.parse(third.text).choices[0].message.content, 'scripted');
    assert.equal(JSON.parse(fourth.text).choices[0].message.content, 'default');
  });

  it('answers bad JSON, a bad body and unknown routes like the real APIs', async () => {
    assert.equal((await post(`${server.url}/chat/completions`, '{not json')).status, 400);
    const missing = await post(`${server.anthropicUrl}/v1/messages`, { model: 'c', messages: [] });
    assert.equal(missing.status, 400);
    assert.equal(JSON.parse(missing.text).error.type, 'invalid_request_error');
    assert.equal((await post(`${server.url}/embeddings`, OPENAI_BODY)).status, 404);
    const models = await fetch(`${server.url}/models`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(models.status, 200);
    await models.arrayBuffer();
    assert.equal(server.requests.length, 0);
  });

  it('ignores every delay in zero-delay mode', async () => {
    const fast = await startFakeModelServer({ zeroDelay: true, defaultReply: { text: ['a', 'b', 'c'], chunkDelayMs: 5_000, firstByteDelayMs: 5_000 } });
    try {
      const started = performance.now();
      const reply = await post(`${fast.url}/chat/completions`, { ...OPENAI_BODY, stream: true });
      assert.match(reply.text, /\[DONE\]/);
      assert.ok(performance.now() - started < 1_000);
    } finally {
      await fast.close();
    }
  });

  it('close() ends open streams at once and leaves no timers behind', async () => {
    const slow = await startFakeModelServer({ defaultReply: { text: ['a', 'b', 'c'], chunkDelayMs: 10_000 } });
    const timersBefore = activeTimers();
    const response = await fetch(`${slow.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ ...OPENAI_BODY, stream: true }),
      signal: AbortSignal.timeout(5_000),
    });
    await slow.waitFor((s) => s.stats.inFlight === 1);
    const reading = response.text().catch(() => 'cut');
    const started = performance.now();
    await slow.close();
    await reading;
    assert.ok(performance.now() - started < 1_000);
    // AbortSignal.timeout() timers are unref'd and live on; count only what the server left.
    assert.ok(activeTimers() <= timersBefore + 1, `timers left: ${activeTimers() - timersBefore}`);
    assert.equal(slow.stats.inFlight, 0);
  });
});
