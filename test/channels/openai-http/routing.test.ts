import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listModels, resolveModelAgent } from '../../../src/channels/openai-http/models.js';
import { ChatCompletionBodySchema, ResponsesBodySchema, parseBody } from '../../../src/channels/openai-http/schemas.js';
import { OpenAiRequestError } from '../../../src/channels/openai-http/request-error.js';
import { resolveSessionRoute, sanitizeUserSegment } from '../../../src/channels/openai-http/session-routing.js';
import { canonicalizeSessionKey } from '../../../src/sessions/session-key.js';

const AGENTS = ['main'];
const canonicalize = (raw: string): string => canonicalizeSessionKey(raw, { agentIds: AGENTS });
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

describe('models', () => {
  it("lists OpenClaw's observed names first, then Pincer's", () => {
    assert.deepEqual(
      listModels(AGENTS).map((model) => model.id),
      ['openclaw', 'openclaw/default', 'openclaw/main', 'pincer', 'pincer/default', 'pincer/main'],
    );
    assert.deepEqual(listModels(AGENTS)[0], { id: 'openclaw', object: 'model', created: 0, owned_by: 'openclaw', permission: [] });
  });

  it('resolves every listed name and the documented aliases to an agent', () => {
    for (const { id } of listModels(AGENTS)) assert.equal(resolveModelAgent(id, AGENTS), 'main');
    assert.equal(resolveModelAgent('openclaw:main', AGENTS), 'main');
    assert.equal(resolveModelAgent('agent:main', AGENTS), 'main');
    assert.equal(resolveModelAgent('Pincer/Default', AGENTS), 'main');
  });

  it('rejects unknown models and unknown agents', () => {
    assert.equal(resolveModelAgent('gpt-4o', AGENTS), undefined);
    assert.equal(resolveModelAgent('pincer/other', AGENTS), undefined);
    assert.equal(resolveModelAgent('pincer/', AGENTS), undefined);
  });
});

describe('resolveSessionRoute', () => {
  it('prefers the x-pincer-session-key header, canonicalised', () => {
    const route = resolveSessionRoute({ headers: { 'x-pincer-session-key': 'Work' }, user: 'u', agentId: 'main', kind: 'openai', canonicalize });
    assert.deepEqual(route, { sessionKey: 'agent:main:work', source: 'header', header: 'x-pincer-session-key' });
  });

  it("accepts OpenClaw's x-openclaw-session-key header", () => {
    const route = resolveSessionRoute({ headers: { 'x-openclaw-session-key': 'agent:main:main' }, user: undefined, agentId: 'main', kind: 'openai', canonicalize });
    assert.equal(route.sessionKey, 'agent:main:main');
  });

  it('derives a stable key from the user field', () => {
    const input = { headers: {}, user: 'alice', agentId: 'main', kind: 'openai' as const, canonicalize };
    assert.equal(resolveSessionRoute(input).sessionKey, 'agent:main:openai-user:alice');
    assert.equal(resolveSessionRoute({ ...input, kind: 'openresponses' }).sessionKey, 'agent:main:openai-user:alice');
  });

  it('creates an ephemeral key per call otherwise', () => {
    const a = resolveSessionRoute({ headers: {}, user: undefined, agentId: 'main', kind: 'openai', canonicalize });
    const b = resolveSessionRoute({ headers: {}, user: undefined, agentId: 'main', kind: 'openresponses', canonicalize });
    assert.match(a.sessionKey, new RegExp(`^agent:main:openai:${UUID.source}$`));
    assert.match(b.sessionKey, new RegExp(`^agent:main:openresponses:${UUID.source}$`));
    assert.equal(a.source, 'ephemeral');
  });

  it('throws the canonicaliser error for a bad header key', () => {
    assert.throws(() => resolveSessionRoute({ headers: { 'x-pincer-session-key': 'a b' }, user: undefined, agentId: 'main', kind: 'openai', canonicalize }));
  });
});

describe('sanitizeUserSegment', () => {
  it('keeps simple ids readable and hashes lossy ones apart', () => {
    assert.equal(sanitizeUserSegment('user-42'), 'user-42');
    assert.match(sanitizeUserSegment('User-42'), /^user-42-[0-9a-f]{12}$/);
    assert.notEqual(sanitizeUserSegment('User-42'), sanitizeUserSegment('USER-42'));
    const a = sanitizeUserSegment('a b');
    const b = sanitizeUserSegment('a/b');
    assert.match(a, /^a-b-[0-9a-f]{12}$/);
    assert.notEqual(a, b);
    assert.match(sanitizeUserSegment('..'), /^\.\.-[0-9a-f]{12}$/);
    assert.match(sanitizeUserSegment('日本'), /^---[0-9a-f]{12}$/);
    assert.ok(sanitizeUserSegment('x'.repeat(500)).length <= 128);
    for (const user of ['a b', '..', '日本', 'x'.repeat(500), 'A:B']) {
      assert.doesNotThrow(() => canonicalize(`agent:main:openai-user:${sanitizeUserSegment(user)}`));
    }
  });
});

describe('parseBody', () => {
  const check = (fn: () => unknown, param: string | null, code: string | null): void => {
    assert.throws(fn, (err: unknown) => err instanceof OpenAiRequestError && err.status === 400 && err.param === param && err.code === code);
  };

  it('names a missing field', () => {
    check(() => parseBody(ChatCompletionBodySchema, { messages: [] }), 'model', 'missing_required_parameter');
  });

  it('names the deepest failing path inside unions', () => {
    check(
      () => parseBody(ChatCompletionBodySchema, { model: 'pincer', messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] }),
      'messages[0].content[0].type',
      'invalid_value',
    );
    check(() => parseBody(ResponsesBodySchema, { model: 'pincer', input: [{ type: 'web_search_call', role: 'user', content: 'x' }] }), 'input[0].type', 'invalid_value');
  });

  it('rejects non-object bodies', () => {
    check(() => parseBody(ChatCompletionBodySchema, [1]), null, null);
  });

  it('accepts and keeps unknown tuning fields', () => {
    const body = parseBody(ChatCompletionBodySchema, { model: 'pincer', messages: [{ role: 'user', content: 'x' }], temperature: 0.2 });
    assert.equal(body.model, 'pincer');
  });
});
