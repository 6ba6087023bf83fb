/**
 * End to end with the real agent: the official `openai` client → the
 * OpenAI-compatible handler → AgentService → OpenAI-compatible provider →
 * the fake model server, with sessions in a real FileSessionStore.
 */

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createAgentService, type PincerAgentService } from '../../../src/agent/agent-service.js';
import type { AgentEvent } from '../../../src/agent/types.js';
import { createEventBus } from '../../../src/bus/event-bus.js';
import { createAssistant } from '../../../src/assistant/assistant.js';
import { createOpenAiHttpHandler } from '../../../src/channels/openai-http/handler.js';
import { createProvider } from '../../../src/providers/create-provider.js';
import { FileSessionStore } from '../../../src/sessions/file-session-store.js';
import { canonicalizeSessionKey } from '../../../src/sessions/session-key.js';
import { startFakeModelServer, type FakeModelServer } from '../../helpers/fake-model-server.js';

const TOKEN = 'e2e-token-0123456789';
const AGENT_IDS = ['main'];
const CLIENT_TIMEOUT_MS = 10_000;
const WAIT_MS = 3_000;
const REPLY = 'Hello from the fake model.';
const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

let fake: FakeModelServer;
let server: Server;
let baseUrl: string;
let dir: string;
let store: FileSessionStore;
let agent: PincerAgentService;
let client: OpenAI;
const bus = createEventBus<AgentEvent>();

before(async () => {
  fake = await startFakeModelServer();
  dir = await mkdtemp(join(tmpdir(), 'pincer-openai-e2e-'));
  store = new FileSessionStore({ dir, logger: { warn() {} } });
  await store.open();
  const provider = createProvider(
    { kind: 'openai', baseUrl: fake.url, apiKey: 'fake-key', model: 'fake-model', timeoutMs: CLIENT_TIMEOUT_MS, maxRetries: 0 },
    { retryBaseDelayMs: 1 },
  );
  agent = createAgentService({
    store,
    bus,
    provider,
    options: { maxConcurrentRuns: 4, maxMessageChars: 100_000, historyLimit: 200 },
    logger: silentLogger,
  });
  await agent.recoverInterruptedRuns();
  const handler = createOpenAiHttpHandler({
    assistant: createAssistant({ store, bus, agent }),
    getAuthSecret: () => ({ mode: 'token', secret: TOKEN }),
    canonicalize: (raw) => canonicalizeSessionKey(raw, { agentIds: AGENT_IDS }),
    agentIds: () => AGENT_IDS,
    logger: silentLogger,
    options: { maxBodyBytes: 256 * 1024 },
  });
  server = createServer((req, res) => {
    void Promise.resolve(handler(req, res)).then((handled) => {
      if (!handled) {
        res.statusCode = 404;
        res.end();
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
  await agent.drain(1_000);
  await store.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => fake.reset());

/** Text of the last model request's messages, for checking what context the agent sent. */
function lastModelMessages(): { role: string; content: unknown }[] {
  const body = fake.requests.at(-1)?.body;
  assert.ok(body !== undefined, 'the model was called');
  return body.messages as { role: string; content: unknown }[];
}

async function sessionOf(runId: string): Promise<string> {
  const record = await agent.wait(runId, WAIT_MS);
  assert.ok(record !== undefined, `run ${runId} is known`);
  return record.sessionKey;
}

describe('openai client against the real agent', () => {
  it('lists models', async () => {
    const ids = (await client.models.list()).data.map((model) => model.id);
    assert.ok(ids.includes('openclaw/default') && ids.includes('pincer/main'));
  });

  it('completes without streaming; the turn is stored in its session', async () => {
    const completion = await client.chat.completions.create({
      model: 'openclaw/default',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'hi via http' },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, REPLY);
    assert.equal(completion.choices[0]?.finish_reason, 'stop');
    assert.ok((completion.usage?.completion_tokens ?? 0) > 0);
    assert.equal(completion.usage?.total_tokens, (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0));

    const sessionKey = await sessionOf(completion.id);
    assert.match(sessionKey, /^agent:main:openai:[0-9a-f-]{36}$/);
    const history = await store.history(sessionKey);
    assert.deepEqual(
      history.messages.map((message) => [message.role, message.runId]),
      [
        ['user', completion.id],
        ['assistant', completion.id],
      ],
    );
    const system = lastModelMessages().find((message) => message.role === 'system');
    assert.match(JSON.stringify(system?.content), /You are terse\./);
  });

  it('streams a completion', async () => {
    const stream = await client.chat.completions.create({ model: 'pincer', stream: true, messages: [{ role: 'user', content: 'stream please' }] });
    const pieces: string[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) pieces.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    assert.deepEqual(pieces, ['Hello', ' from', ' the', ' fake', ' model.']);
    assert.equal(finish, 'stop');
  });

  it('answers with the Responses API, streaming and not', async () => {
    const response = await client.responses.create({ model: 'pincer', input: 'hi via responses' });
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, REPLY);
    assert.match(await sessionOf(response.id), /^agent:main:openresponses:[0-9a-f-]{36}$/);

    const stream = await client.responses.create({ model: 'pincer', input: 'stream it', stream: true });
    let text = '';
    let last = '';
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      last = event.type;
    }
    assert.equal(text, REPLY);
    assert.equal(last, 'response.completed');
  });

  it('keeps the conversation of one user in one session', async () => {
    await client.chat.completions.create({ model: 'pincer', user: 'e2e-user', messages: [{ role: 'user', content: 'remember 42' }] });
    await client.chat.completions.create({ model: 'pincer', user: 'e2e-user', messages: [{ role: 'user', content: 'what number?' }] });
    const contents = JSON.stringify(lastModelMessages());
    assert.match(contents, /remember 42/);
    assert.match(contents, /what number\?/);
    const history = await store.history('agent:main:openai-user:e2e-user');
    assert.equal(history.messages.length, 4);
  });

  it('continues a response with previous_response_id', async () => {
    const first = await client.responses.create({ model: 'pincer', input: 'first part' });
    await client.responses.create({ model: 'pincer', input: 'second part', previous_response_id: first.id });
    assert.match(JSON.stringify(lastModelMessages()), /first part/);
  });

  it('reports a provider failure as a 502 and as an SSE error', async () => {
    fake.enqueue({ status: 400, errorMessage: 'model exploded' });
    await assert.rejects(
      client.chat.completions.create({ model: 'pincer', messages: [{ role: 'user', content: 'fail' }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 502 && /model exploded/.test(err.message),
    );
    fake.enqueue({ text: ['par', 'tial'], streamError: 'stream broke' });
    const stream = await client.chat.completions.create({ model: 'pincer', stream: true, messages: [{ role: 'user', content: 'fail later' }] });
    await assert.rejects(async () => {
      for await (const chunk of stream) void chunk;
    }, (err: unknown) => err instanceof OpenAI.APIError && /stream broke/.test(err.message));
  });

  it('rejects a wrong key, a malformed body, a large body and a wrong method', async () => {
    const bad = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'wrong', maxRetries: 0, timeout: CLIENT_TIMEOUT_MS });
    await assert.rejects(bad.models.list(), OpenAI.AuthenticationError);
    await assert.rejects(
      client.chat.completions.create({ model: 'pincer', messages: 'hi' as unknown as [] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'messages',
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'pincer', messages: [{ role: 'user', content: 'x'.repeat(300 * 1024) }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 413,
    );
    await assert.rejects(client.get('/responses'), (err: unknown) => err instanceof OpenAI.APIError && err.status === 405);
    assert.equal(fake.requests.length, 0, 'no rejected request reached the model');
  });

  it('aborts the run when the client disconnects mid-stream and keeps the partial reply', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => `c${i} `);
    fake.enqueue({ text: chunks, chunkDelayMs: 40 });
    const stream = await client.chat.completions.create({ model: 'pincer', stream: true, messages: [{ role: 'user', content: 'long answer' }] });
    let id = '';
    let received = '';
    for await (const chunk of stream) {
      id = chunk.id;
      received += chunk.choices[0]?.delta.content ?? '';
      if (received.length >= 'c0 c1 c2 '.length) break;
    }
    const record = await agent.wait(id, WAIT_MS);
    assert.equal(record?.status, 'aborted');
    await fake.waitFor((server) => server.stats.aborted === 1, WAIT_MS);
    const history = await store.history(record?.sessionKey ?? '');
    const reply = history.messages.at(-1);
    assert.equal(reply?.role, 'assistant');
    assert.equal(reply?.stopReason, 'aborted');
    const text = reply?.content.map((block) => (block.type === 'text' ? block.text : '')).join('') ?? '';
    assert.ok(text.startsWith('c0 c1 c2 '), `partial reply persisted: ${JSON.stringify(text)}`);
    assert.ok(text.length < chunks.join('').length);
  });
});
