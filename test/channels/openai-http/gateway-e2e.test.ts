/**
 * The OpenAI-compatible API as the started gateway serves it: the official
 * `openai` client on /v1 and a WebSocket operator on the same port see the
 * same turn (events while it streams, chat.history afterwards).
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { okPayload, REPLY_TEXT, startStack, waitTerminal, type Stack } from '../openclaw/e2e-setup.js';

const CLIENT_TIMEOUT_MS = 10_000;

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: stack.token, maxRetries: 0, timeout: CLIENT_TIMEOUT_MS });
});
after(async () => {
  await stack?.close();
});

describe('/v1 on the gateway port', () => {
  it('lists the assistant models', async () => {
    const ids = (await client.models.list()).data.map((model) => model.id);
    assert.ok(ids.includes('pincer/default'), ids.join(', '));
  });

  it('streams a completion that a WebSocket operator watches and then reads in chat.history', async () => {
    const watcher = await stack.client();
    const name = `http-${randomUUID()}`;
    const stream = await client.chat.completions.create(
      { model: 'pincer/default', stream: true, messages: [{ role: 'user', content: 'hello over http' }] },
      { headers: { 'x-pincer-session-key': name } },
    );
    let text = '';
    let runId = '';
    for await (const chunk of stream) {
      runId = chunk.id;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, REPLY_TEXT);

    const final = await waitTerminal(watcher, runId);
    assert.equal(final.payload.state, 'final');
    assert.equal(final.payload.sessionKey, `agent:main:${name}`);

    const history = okPayload(await watcher.request('chat.history', { sessionKey: name }));
    assert.equal(history.sessionKey, `agent:main:${name}`);
    assert.deepEqual(
      history.messages.map((m: { role: string }) => m.role),
      ['user', 'assistant'],
    );
    assert.deepEqual(history.messages[0].content, [{ type: 'text', text: 'hello over http' }]);
    assert.deepEqual(history.messages[1].content, [{ type: 'text', text: REPLY_TEXT }]);
  });

  it('refuses a wrong key with 401 in OpenAI’s error shape', async () => {
    const wrong = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: 'not-the-token', maxRetries: 0, timeout: CLIENT_TIMEOUT_MS });
    await assert.rejects(wrong.models.list(), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 401);
      return true;
    });
  });
});
