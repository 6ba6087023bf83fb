import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProvider } from '../../src/providers/create-provider.js';
import { DEFAULT_MAX_OUTPUT_TOKENS, buildMessagesRequest } from '../../src/providers/anthropic-messages.js';
import { startFakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeModelServer } from '../helpers/fake-model-server.js';
import { collect, last, runProviderSuite } from './provider-conformance.js';

runProviderSuite({
  name: 'anthropic',
  baseUrlOf: (port) => `http://127.0.0.1:${port}`,
  create: (settings) => createProvider({ kind: 'anthropic', ...settings }, { retryBaseDelayMs: settings.retryBaseDelayMs }),
  checkRequestMapping(body, model) {
    assert.deepEqual(body, {
      model,
      max_tokens: 512,
      system: 'You are Pincer.',
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
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'call_1', name: 'read_file', input: { path: 'a.txt' } },
            { type: 'tool_use', id: 'call_2', name: 'list_dir', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: 'file body' }] },
            { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: 'no such dir' }], is_error: true },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'It is a cat.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
      ],
      stream: true,
      tools: [
        {
          name: 'read_file',
          description: 'Read a file',
          input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
        },
      ],
    });
  },
});

describe('anthropic provider (specifics)', () => {
  let server: FakeModelServer;

  before(async () => {
    server = await startFakeModelServer();
  });
  after(async () => {
    await server.close();
  });

  it('drops a trailing /v1 from the base URL (the SDK adds it)', async () => {
    const provider = createProvider({
      kind: 'anthropic',
      baseUrl: `${server.anthropicUrl}/v1/`,
      model: 'claude-test',
      apiKey: 'k',
      timeoutMs: 2_000,
      maxRetries: 0,
    });
    const events = await collect(provider, { messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }] });
    assert.equal(last(events).type, 'done');
    assert.equal(server.requests.at(-1)?.path, '/v1/messages');
  });

  it('reports name and model', () => {
    const provider = createProvider({ kind: 'anthropic', model: 'claude-test', timeoutMs: 1_000, maxRetries: 0 });
    assert.equal(provider.name, 'anthropic');
    assert.equal(provider.model, 'claude-test');
  });
});

describe('buildMessagesRequest', () => {
  it('sets a default output cap and leaves out empty parts', () => {
    const body = buildMessagesRequest('m', { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
    assert.deepEqual(body, {
      model: 'm',
      max_tokens: DEFAULT_MAX_OUTPUT_TOKENS,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      stream: true,
    });
  });

  it('drops empty assistant turns, empty text and thinking; ignores the thinking hint', () => {
    const body = buildMessagesRequest('m', {
      thinking: 'high',
      messages: [
        { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'a' }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hidden' }, { type: 'text', text: '' }] },
        { role: 'user', content: [{ type: 'text', text: 'b' }] },
      ],
    });
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'a' }] },
      { role: 'user', content: [{ type: 'text', text: 'b' }] },
    ]);
    assert.equal('thinking' in body, false);
  });

  it('keeps images in tool results and names unsupported image types', () => {
    const body = buildMessagesRequest('m', {
      messages: [
        {
          role: 'toolResult',
          toolCallId: 't1',
          toolName: 'shot',
          isError: false,
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: 'AAAA' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/tiff', data: 'BBBB' } },
          ],
        },
        { role: 'toolResult', toolCallId: 't2', toolName: 'noop', isError: false, content: [] },
      ],
    });
    assert.deepEqual(body.messages, [
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 't1',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: 'AAAA' } },
              { type: 'text', text: '[image image/tiff omitted: unsupported type]' },
            ],
          },
          { type: 'tool_result', tool_use_id: 't2' },
        ],
      },
    ]);
  });
});
