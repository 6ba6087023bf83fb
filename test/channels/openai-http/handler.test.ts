import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { AgentEvent } from '../../../src/agent/types.js';
import { createEventBus } from '../../../src/bus/event-bus.js';
import { createAssistant } from '../../../src/assistant/assistant.js';
import { createOpenAiHttpHandler } from '../../../src/channels/openai-http/handler.js';
import { GatewayError, gatewayUnavailable } from '../../../src/protocol/errors.js';
import { createAuthRateLimiter } from '../../../src/security/auth-rate-limiter.js';
import { LOOPBACK_KEY } from '../../../src/security/client-address.js';
import { FileSessionStore } from '../../../src/sessions/file-session-store.js';
import { canonicalizeSessionKey } from '../../../src/sessions/session-key.js';
import { ScriptedAgent } from './scripted-agent.js';

const TOKEN = 'test-token-0123456789';
const MAX_BODY_BYTES = 64 * 1024;
const CLIENT_TIMEOUT_MS = 5_000;
const WAIT_STEP_MS = 10;
const AGENT_IDS = ['main'];
const loggedErrors: string[] = [];
const logger = { debug() {}, warn() {}, error: (message: string) => void loggedErrors.push(message) };

let server: Server;
let baseUrl: string;
let dir: string;
let store: FileSessionStore;
let agent: ScriptedAgent;
let client: OpenAI;
const bus = createEventBus<AgentEvent>();
const limiter = createAuthRateLimiter({ maxFailures: 3, lockoutMs: 60_000 });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pincer-openai-http-'));
  store = new FileSessionStore({ dir, logger: { warn() {} } });
  await store.open();
  agent = new ScriptedAgent(bus, store);
  const handler = createOpenAiHttpHandler({
    assistant: createAssistant({ store, bus, agent }),
    getAuthSecret: () => ({ mode: 'token', secret: TOKEN }),
    canonicalize: (raw) => canonicalizeSessionKey(raw, { agentIds: AGENT_IDS }),
    agentIds: () => AGENT_IDS,
    logger,
    options: { maxBodyBytes: MAX_BODY_BYTES },
    rateLimiter: limiter,
  });
  server = createServer((req, res) => {
    void Promise.resolve(handler(req, res)).then((handled) => {
      if (!handled) {
        res.statusCode = 404;
        res.end('not mine');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  baseUrl = `http://127.0.0.1:${address.port}`;
  client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: TOKEN, maxRetries: 0, timeout: CLIENT_TIMEOUT_MS });
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  agent.refuse = undefined;
  agent.script = { deltas: ['Hello', ' from', ' the', ' fake', ' model.'] };
  limiter.recordSuccess(LOOPBACK_KEY);
});

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
  }
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
  });
}

describe('auth', () => {
  it('answers a wrong key with the observed 401 body (AuthenticationError in the client)', async () => {
    const bad = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'nope', maxRetries: 0, timeout: CLIENT_TIMEOUT_MS });
    await assert.rejects(bad.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError && err.status === 401);
    const res = await fetch(`${baseUrl}/v1/models`);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), {
      error: {
        message: "Unauthorized: send this gateway's auth.token (or the token `pincer token` prints) as the bearer API key.",
        type: 'unauthorized',
        param: null,
        code: 'invalid_api_key',
      },
    });
  });

  it('locks a key out after repeated wrong bearers (429 + Retry-After), even for the right one', async () => {
    for (let i = 0; i < 5; i++) {
      // Missing credentials never count.
      assert.equal((await fetch(`${baseUrl}/v1/models`)).status, 401);
    }
    assert.equal((await client.models.list()).data.length > 0, true);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${baseUrl}/v1/models`, { headers: { authorization: 'Bearer wrong' } });
      assert.equal(res.status, 401);
    }
    const locked = await fetch(`${baseUrl}/v1/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    const body = (await locked.json()) as { error: { type: string } };
    assert.equal(body.error.type, 'rate_limit_error');
  });
});

describe('routing', () => {
  it('lists the models', async () => {
    const page = await client.models.list();
    assert.deepEqual(
      page.data.map((model) => model.id),
      ['openclaw', 'openclaw/default', 'openclaw/main', 'pincer', 'pincer/default', 'pincer/main'],
    );
    const model = await client.models.retrieve('pincer/main');
    assert.equal(model.id, 'pincer/main');
    await assert.rejects(client.models.retrieve('gpt-4o'), OpenAI.NotFoundError);
  });

  it('answers a wrong method with 405 and Allow', async () => {
    await assert.rejects(client.get('/chat/completions'), (err: unknown) => err instanceof OpenAI.APIError && err.status === 405);
    const res = await fetch(`${baseUrl}/v1/models`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
  });

  it('answers an unknown /v1 path with an OpenAI-shaped 404 and leaves other paths alone', async () => {
    const res = await fetch(`${baseUrl}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { type: string; code: string } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal((await fetch(`${baseUrl}/v2/models`)).status, 404);
    assert.equal(await (await fetch(`${baseUrl}/v1x`)).text(), 'not mine');
  });
});

describe('request bodies', () => {
  it('rejects malformed JSON with 400', async () => {
    const res = await post('/v1/chat/completions', '{"model":');
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { type: string; param: unknown; code: unknown } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.ok('param' in body.error && 'code' in body.error);
  });

  it('names the invalid parameter (BadRequestError in the client)', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'pincer', messages: [{ role: 'user', content: 5 as unknown as string }] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'messages[0].content',
    );
    assert.equal(agent.turns.length, 0);
  });

  it('rejects an unknown model with 404 model_not_found', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found' && err.param === 'model',
    );
  });

  it('rejects a body over maxBodyBytes with 413', async () => {
    const big = 'x'.repeat(MAX_BODY_BYTES + 1);
    await assert.rejects(
      client.chat.completions.create({ model: 'pincer', messages: [{ role: 'user', content: big }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 413,
    );
    // Also without a content-length (chunked upload).
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 4; i++) req.write(Buffer.alloc(MAX_BODY_BYTES / 2, 0x20));
      req.end();
    });
    assert.equal(status, 413);
  });

  it('survives a client that leaves mid-upload', async () => {
    const address = new URL(baseUrl);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(address.port), '127.0.0.1', () => {
        socket.write(
          `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\ncontent-length: 1000\r\n\r\n{"model":`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await client.models.list()).data.length, 6);
    assert.deepEqual(loggedErrors, []);
  });

  it('rejects a bad session-key header with 400', async () => {
    const res = await post('/v1/chat/completions', { model: 'pincer', messages: [{ role: 'user', content: 'hi' }] }, { 'x-pincer-session-key': 'bad key!' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { param: string } };
    assert.equal(body.error.param, 'x-pincer-session-key');
  });
});

describe('POST /v1/chat/completions', () => {
  it('returns the observed completion shape with usage', async () => {
    const completion = await client.chat.completions
      .create({
        model: 'openclaw/default',
        messages: [
          { role: 'system', content: 'Be nice.' },
          { role: 'user', content: 'hi via http' },
        ],
      })
      .withResponse();
    const { data } = completion;
    assert.match(data.id, /^chatcmpl_[0-9a-f-]{36}$/);
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, 'openclaw/default');
    assert.deepEqual(data.choices, [
      { index: 0, message: { role: 'assistant', content: 'Hello from the fake model.' }, finish_reason: 'stop' },
    ]);
    assert.deepEqual(data.usage, { prompt_tokens: 10, completion_tokens: 12, total_tokens: 22 });
    const sessionKey = completion.response.headers.get('x-pincer-session-key') ?? '';
    assert.match(sessionKey, /^agent:main:openai:[0-9a-f-]{36}$/);
    const turn = agent.turns.at(-1);
    assert.equal(turn?.idempotencyKey, data.id);
    assert.equal(turn?.extraSystemPrompt, 'Be nice.');
    const history = await store.history(sessionKey);
    assert.deepEqual(history.messages.map((message) => message.role), ['user', 'assistant']);
  });

  it('streams the observed SSE frames ending with [DONE]', async () => {
    const res = await post('/v1/chat/completions', { model: 'openclaw/default', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const raw = await res.text();
    assert.ok(raw.endsWith('\n\ndata: [DONE]\n\n'));
    const frames = raw.split('\n\n').filter((frame) => frame !== '');
    assert.ok(frames.every((frame) => frame.startsWith('data: ')));
    const chunks = frames.slice(0, -1).map((frame) => JSON.parse(frame.slice('data: '.length)) as Record<string, unknown>);
    const id = chunks[0].id as string;
    assert.match(id, /^chatcmpl_/);
    const expectedDeltas = [{ role: 'assistant' }, ...['Hello', ' from', ' the', ' fake', ' model.'].map((content) => ({ content })), {}];
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices),
      expectedDeltas.map((delta, i) => [{ index: 0, delta, finish_reason: i === expectedDeltas.length - 1 ? 'stop' : null }]),
    );
    for (const chunk of chunks) {
      assert.deepEqual(Object.keys(chunk), ['id', 'object', 'created', 'model', 'choices']);
      assert.equal(chunk.id, id);
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.model, 'openclaw/default');
    }
  });

  it('streams through the official client, with include_usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'pincer',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'Hello from the fake model.');
    assert.deepEqual(usage, { prompt_tokens: 10, completion_tokens: 12, total_tokens: 22 });
  });

  it('keeps a session per user and does not replay history into it', async () => {
    const messages = [{ role: 'user' as const, content: 'first question' }];
    await client.chat.completions.create({ model: 'pincer', user: 'Alice', messages });
    await client.chat.completions.create({
      model: 'pincer',
      user: 'Alice',
      messages: [...messages, { role: 'assistant', content: 'Hello from the fake model.' }, { role: 'user', content: 'second question' }],
    });
    const [first, second] = agent.turns.slice(-2);
    // Mixed case keeps the readable part and gains a hash of the original (issue 14).
    assert.match(first.sessionKey, /^agent:main:openai-user:alice-[0-9a-f]{12}$/);
    assert.equal(second.sessionKey, first.sessionKey);
    assert.equal(second.text, 'second question');
  });

  it('gives users that differ only in case separate sessions', async () => {
    const keys: string[] = [];
    for (const user of ['alice', 'Alice', 'ALICE', 'alice']) {
      await client.chat.completions.create({ model: 'pincer', user, messages: [{ role: 'user', content: `hi from ${user}` }] });
      keys.push(agent.turns.at(-1)!.sessionKey);
    }
    console.log(`sessions for alice, Alice, ALICE, alice: ${new Set(keys).size}`);
    assert.equal(keys[0], 'agent:main:openai-user:alice');
    assert.equal(keys[3], keys[0]);
    assert.equal(new Set(keys).size, 3);
  });

  it('runs in the session named by x-pincer-session-key', async () => {
    await client.chat.completions.create(
      { model: 'pincer', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-pincer-session-key': 'Main' } },
    );
    assert.equal(agent.turns.at(-1)?.sessionKey, 'agent:main:main');
  });

  it('maps agent refusals: INVALID_REQUEST → 400, UNAVAILABLE → 503 with Retry-After', async () => {
    agent.refuse = new GatewayError('INVALID_REQUEST', 'message too long');
    await assert.rejects(
      client.chat.completions.create({ model: 'pincer', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.message.includes('message too long'),
    );
    agent.refuse = gatewayUnavailable('shutdown', 5_000);
    const res = await post('/v1/chat/completions', { model: 'pincer', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
  });

  it('answers a failed run with 502 (non-stream) or an SSE error chunk (stream)', async () => {
    agent.script = { deltas: ['par'], end: 'error', error: 'provider exploded' };
    await assert.rejects(
      client.chat.completions.create({ model: 'pincer', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 502 && err.message.includes('provider exploded'),
    );
    const stream = await client.chat.completions.create({ model: 'pincer', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    await assert.rejects(async () => {
      for await (const chunk of stream) void chunk;
    }, (err: unknown) => err instanceof OpenAI.APIError && err.message.includes('provider exploded'));
  });

  it('aborts the run when the client goes away mid-stream', async () => {
    agent.script = { deltas: ['partial', ' reply'], end: 'hang' };
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'pincer', stream: true, messages: [{ role: 'user', content: 'long one' }] },
      { signal: controller.signal },
    );
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (text === 'partial reply') break;
    }
    const runId = agent.turns.at(-1)?.idempotencyKey;
    await until(() => agent.aborts.some((entry) => entry.runId === runId));
    const record = await agent.wait(runId ?? '', 2_000);
    assert.equal(record?.status, 'aborted');
  });

  it('aborts the run when a non-streaming client goes away', async () => {
    agent.script = { deltas: ['x'], end: 'hang' };
    const controller = new AbortController();
    const pending = client.chat.completions.create(
      { model: 'pincer', messages: [{ role: 'user', content: 'wait' }] },
      { signal: controller.signal },
    );
    await until(() => agent.turns.at(-1)?.text === 'wait');
    const runId = agent.turns.at(-1)?.idempotencyKey;
    controller.abort();
    await assert.rejects(pending);
    await until(() => agent.aborts.some((entry) => entry.runId === runId));
  });
});

describe('POST /v1/responses', () => {
  it('returns the observed response shape', async () => {
    const response = await client.responses.create({ model: 'openclaw/default', input: 'hi via responses', instructions: 'Be short.' });
    assert.match(response.id, /^resp_[0-9a-f-]{36}$/);
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, 'Hello from the fake model.');
    const [item] = response.output;
    assert.equal(item.type, 'message');
    assert.match(item.type === 'message' ? item.id : '', /^msg_/);
    assert.deepEqual(response.usage, {
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 12,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 22,
    });
    const turn = agent.turns.at(-1);
    assert.match(turn?.sessionKey ?? '', /^agent:main:openresponses:[0-9a-f-]{36}$/);
    assert.equal(turn?.idempotencyKey, response.id);
    assert.equal(turn?.extraSystemPrompt, 'Be short.');
  });

  it('streams created → deltas → completed events in order', async () => {
    const stream = await client.responses.create({ model: 'pincer', input: 'hi', stream: true });
    const types: string[] = [];
    let text = '';
    let sequence = -1;
    let completedText = '';
    for await (const event of stream) {
      types.push(event.type);
      assert.equal(event.sequence_number, sequence + 1);
      sequence = event.sequence_number;
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') {
        const item = event.response.output[0];
        completedText = item.type === 'message' && item.content[0].type === 'output_text' ? item.content[0].text : '';
      }
    }
    assert.deepEqual(types, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array(5).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    assert.equal(text, 'Hello from the fake model.');
    assert.equal(completedText, text);
  });

  it('sends response.failed when the run fails mid-stream', async () => {
    agent.script = { deltas: ['x'], end: 'error', error: 'boom' };
    const stream = await client.responses.create({ model: 'pincer', input: 'hi', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.equal(types.at(-1), 'response.failed');
  });

  it('continues the session of previous_response_id', async () => {
    const first = await client.responses.create({ model: 'pincer', input: 'one' });
    const firstKey = agent.turns.at(-1)?.sessionKey;
    await client.responses.create({ model: 'pincer', input: 'two', previous_response_id: first.id });
    assert.equal(agent.turns.at(-1)?.sessionKey, firstKey);
    await assert.rejects(
      client.responses.create({ model: 'pincer', input: 'three', previous_response_id: 'resp_unknown' }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'previous_response_id',
    );
  });
});
