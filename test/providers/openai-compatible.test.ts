import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProvider } from '../../src/providers/create-provider.js';
import { buildChatCompletionRequest } from '../../src/providers/openai-messages.js';
import { startFakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeModelServer } from '../helpers/fake-model-server.js';
import { MAPPING_REQUEST, collect, last, runProviderSuite } from './provider-conformance.js';

const IMAGE_URL = 'data:image/png;base64,iVBORw0KGgo=';

runProviderSuite({
  name: 'openai-compatible',
  baseUrlOf: (port) => `http://127.0.0.1:${port}/v1`,
  create: (settings) => createProvider({ kind: 'openai', ...settings }, { retryBaseDelayMs: settings.retryBaseDelayMs }),
  checkRequestMapping(body, model) {
    assert.deepEqual(body, {
      model,
      messages: [
        { role: 'system', content: 'You are Pincer.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image_url', image_url: { url: IMAGE_URL } },
          ],
        },
        {
          role: 'assistant',
          content: 'Let me look.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.txt"}' } },
            { id: 'call_2', type: 'function', function: { name: 'list_dir', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'file body' },
        { role: 'tool', tool_call_id: 'call_2', content: 'no such dir' },
        { role: 'assistant', content: 'It is a cat.' },
        { role: 'user', content: 'Thanks' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      tools: [
        {
          type: 'function',
          function: {
            name: 'read_file',
            description: 'Read a file',
            parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
          },
        },
      ],
      max_tokens: 512,
    });
  },
});

describe('openai-compatible provider (specifics)', () => {
  let server: FakeModelServer;
  const provider = (baseUrl = server.url) =>
    createProvider({ kind: 'openai', baseUrl, model: 'llama3', timeoutMs: 2_000, maxRetries: 0 });

  before(async () => {
    server = await startFakeModelServer();
  });
  after(async () => {
    await server.close();
  });

  it('reads reasoning from the `reasoning` field too (Ollama, OpenRouter)', async () => {
    server.enqueue({ thinking: ['hmm'], text: 'yes', reasoningField: 'reasoning' });
    const events = await collect(provider(), { messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }] });
    assert.deepEqual(events.slice(0, 2), [
      { type: 'thinking', delta: 'hmm' },
      { type: 'text', delta: 'yes' },
    ]);
  });

  it('accepts a base URL with a trailing slash and the un-prefixed route', async () => {
    const events = await collect(provider(`${server.url}/`), { messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }] });
    assert.equal(last(events).type, 'done');
    assert.equal(server.requests.at(-1)?.path, '/v1/chat/completions');
  });

  it('reports name and model', () => {
    const p = provider();
    assert.equal(p.name, 'openai');
    assert.equal(p.model, 'llama3');
  });
});

describe('buildChatCompletionRequest', () => {
  it('uses max_completion_tokens only for api.openai.com', () => {
    const request = { messages: [], maxOutputTokens: 100 };
    assert.equal(buildChatCompletionRequest('m', request, 'max_completion_tokens').max_completion_tokens, 100);
    assert.equal(buildChatCompletionRequest('m', request, 'max_tokens').max_tokens, 100);
  });

  it('omits tools, the output cap and the system message when absent', () => {
    const body = buildChatCompletionRequest('m', { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }, 'max_tokens');
    assert.deepEqual(body, {
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('drops empty assistant turns and names images in tool results', () => {
    const body = buildChatCompletionRequest(
      'm',
      {
        thinking: 'high',
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'a' }] },
          { role: 'assistant', content: [{ type: 'thinking', thinking: 'only thoughts' }] },
          {
            role: 'toolResult',
            toolCallId: 'c1',
            toolName: 'shot',
            isError: false,
            content: [
              { type: 'text', text: 'took it' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            ],
          },
        ],
      },
      'max_tokens',
    );
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'a' },
      { role: 'tool', tool_call_id: 'c1', content: 'took it\n[image image/png omitted]' },
    ]);
    assert.equal('reasoning_effort' in body, false);
  });

  it('joins several user text blocks with newlines', () => {
    const body = buildChatCompletionRequest(
      'm',
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] }] },
      'max_tokens',
    );
    assert.deepEqual(body.messages, [{ role: 'user', content: 'one\ntwo' }]);
  });
});
