/**
 * The OpenAI-compatible API where OpenAI clients look: every error body has
 * message, type, param and code; wrong-typed parameters are a 400 naming them;
 * the documented model names work and an unknown one lists them; client
 * tools with tool_choice "none" leave the reply plain (the hand-back itself:
 * client-tools.test.ts). Real gateway, real
 * fake model on loopback, the official SDK.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFakeModelServer, type FakeModelServer } from '../../helpers/fake-model-server.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';

const TIMEOUT_MS = 10_000;
let gateway: StartedGateway;
let model: FakeModelServer;
let client: OpenAI;

before(async () => {
  model = await startFakeModelServer({ defaultReply: { text: ['pong'] } });
  gateway = await startGateway({ overrides: { provider: { kind: 'openai', model: 'fake-model', baseUrl: model.url, apiKey: 'sk-fake' } } });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.token, maxRetries: 0, timeout: TIMEOUT_MS });
});
after(async () => {
  await gateway?.close();
  await model?.close();
});

async function call(method: string, path: string, body?: unknown, token: string | null = gateway.token): Promise<{ status: number; body: { error?: Record<string, unknown> } }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { status: res.status, body: (await res.json()) as { error?: Record<string, unknown> } };
}

function assertOpenAiError(result: { status: number; body: { error?: Record<string, unknown> } }, status: number): Record<string, unknown> {
  assert.equal(result.status, status, JSON.stringify(result.body));
  const error = result.body.error;
  assert.ok(error !== undefined, 'an error object');
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type'], JSON.stringify(error));
  assert.equal(typeof error.message, 'string');
  assert.equal(typeof error.type, 'string');
  return error;
}

describe('OpenAI error bodies', () => {
  it('carry message, type, param and code on every refusal', async () => {
    const chat = { model: 'pincer', messages: [{ role: 'user', content: 'hi' }] };
    const unauthorized = assertOpenAiError(await call('GET', '/v1/models', undefined, 'wrong-token'), 401);
    assert.equal(unauthorized.code, 'invalid_api_key');
    assert.match(String(unauthorized.message), /auth\.token/);
    assertOpenAiError(await call('GET', '/v1/models', undefined, null), 401);
    assertOpenAiError(await call('GET', '/v1/nothing-here'), 404);
    assertOpenAiError(await call('GET', '/v1/chat/completions'), 405);
    assertOpenAiError(await call('POST', '/v1/chat/completions', '{not json'), 400);
    assertOpenAiError(await call('POST', '/v1/chat/completions', { ...chat, model: 'gpt-4o' }), 404);
    assertOpenAiError(await call('GET', '/v1/models/gpt-4o'), 404);
    assertOpenAiError(await call('POST', '/v1/responses', { model: 'pincer' }), 400);
  });

  it('reach the SDK as typed errors with their code', async () => {
    const wrong = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'nope', maxRetries: 0, timeout: TIMEOUT_MS });
    await assert.rejects(wrong.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError && err.code === 'invalid_api_key');
  });
});

describe('parameters of the wrong type', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['/v1/chat/completions', 'temperature', { temperature: 'hot' }],
    ['/v1/chat/completions', 'max_tokens', { max_tokens: '100' }],
    ['/v1/chat/completions', 'stream', { stream: 'yes' }],
    ['/v1/chat/completions', 'top_p', { top_p: 3 }],
    ['/v1/chat/completions', 'stop', { stop: 5 }],
    ['/v1/chat/completions', 'tools', { tools: 'search' }],
    ['/v1/chat/completions', 'metadata', { metadata: 'x' }],
    ['/v1/responses', 'max_output_tokens', { max_output_tokens: 1.5 }],
    ['/v1/responses', 'temperature', { temperature: '0.2' }],
    ['/v1/responses', 'instructions', { instructions: 7 }],
  ];
  for (const [path, param, extra] of cases) {
    it(`${path}: ${param} gets a 400 naming it`, async () => {
      const base = path === '/v1/responses' ? { model: 'pincer', input: 'hi' } : { model: 'pincer', messages: [{ role: 'user', content: 'hi' }] };
      const before = model.requests.length;
      const error = assertOpenAiError(await call('POST', path, { ...base, ...extra }), 400);
      assert.equal(error.param, param);
      assert.equal(model.requests.length, before, 'no model call for a refused request');
    });
  }

  it('still accepts the right types', async () => {
    const reply = await client.chat.completions.create({
      model: 'pincer',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 50,
      stop: ['\n\n'],
      seed: 1,
      metadata: { source: 'test' },
    });
    assert.equal(reply.choices[0]?.message.content, 'pong');
  });
});

describe('model names', () => {
  for (const name of ['pincer', 'pincer:main', 'openclaw', 'openclaw:main', 'openclaw/default', 'pincer/main']) {
    it(`accepts ${name}`, async () => {
      const reply = await client.chat.completions.create({ model: name, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(reply.choices[0]?.message.content, 'pong');
      const response = await client.responses.create({ model: name, input: 'hi' });
      assert.equal(response.output_text, 'pong');
    });
  }

  it('answers another name with a 404 that lists the accepted ones', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal(err.code, 'model_not_found');
      assert.equal(err.param, 'model');
      assert.match(err.message, /pincer, pincer:<agentId>, openclaw or openclaw:<agentId> \(agents: main\)/);
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: 'pincer:nobody', messages: [{ role: 'user', content: 'hi' }] }), OpenAI.NotFoundError);
  });
});

describe('client-supplied tools', () => {
  const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];

  it('are allowed with tool_choice "none", which asks for no tool calls', async () => {
    const reply = await client.chat.completions.create({ model: 'pincer', messages: [{ role: 'user', content: 'hi' }], tools, tool_choice: 'none' });
    assert.equal(reply.choices[0]?.message.content, 'pong');
  });
});
