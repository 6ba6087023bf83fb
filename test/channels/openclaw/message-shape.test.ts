import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { messageText } from '../../../src/messages/message-text.js';
import { shapeMessage, shapeSessionRow, shapeUsage } from '../../../src/channels/openclaw/message-shape.js';
import type { SessionMeta, StoredMessage } from '../../../src/sessions/types.js';

const DEFAULTS = { model: 'fake-model', provider: 'fake', contextTokens: 128000 };

function meta(overrides: Partial<SessionMeta> = {}): SessionMeta {
  return {
    key: 'agent:main:main',
    agentId: 'main',
    sessionId: '25ef2952-76a1-42b6-b93e-a5ed8b56c3d1',
    label: null,
    derivedTitle: 'Hi there',
    createdAt: 1000,
    updatedAt: 2000,
    messageCount: 2,
    inputTokens: 10,
    outputTokens: 12,
    totalTokens: 22,
    lastRunId: 'run-1',
    ...overrides,
  };
}

describe('shapeMessage', () => {
  it('keeps user content as a block array and suffixes the idempotency key', () => {
    const user: StoredMessage = {
      id: 'u1',
      role: 'user',
      content: [{ type: 'text', text: 'Hi there' }],
      timestamp: 1795606536674,
      idempotencyKey: '7d3d',
    };
    const wire = shapeMessage(user, { seq: 1 });
    assert.deepEqual(wire, {
      role: 'user',
      content: [{ type: 'text', text: 'Hi there' }],
      id: 'u1',
      timestamp: 1795606536674,
      idempotencyKey: '7d3d:user',
      __openclaw: { id: 'u1', seq: 1, idempotencyKey: '7d3d:user' },
    });
    assert.ok(Array.isArray(wire.content));
  });

  it('does not double the :user suffix', () => {
    const wire = shapeMessage({ id: 'u', role: 'user', content: [], timestamp: 1, idempotencyKey: 'k:user' });
    assert.equal(wire.idempotencyKey, 'k:user');
  });

  it('puts image blocks of a user message on the wire unchanged (item 32)', () => {
    const image = { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png', data: 'iVBORw0KGgo=' } };
    const wire = shapeMessage({ id: 'u', role: 'user', content: [image, { type: 'text', text: 'look' }], timestamp: 1 });
    assert.deepEqual(wire.content[0], image);
    assert.deepEqual(wire.content[1], { type: 'text', text: 'look' });
  });

  it('gives assistant rows stopReason, full usage, provider, model and runId', () => {
    const assistant: StoredMessage = {
      id: 'a1',
      role: 'assistant',
      content: [{ type: 'text', text: 'Hello' }],
      timestamp: 5,
      runId: 'run-1',
      usage: { input: 10, output: 12, totalTokens: 22 },
      stopReason: 'stop',
      provider: 'fake',
      model: 'fake-model',
    };
    const wire = shapeMessage(assistant, { seq: 2 });
    assert.equal(wire.stopReason, 'stop');
    assert.deepEqual(wire.usage, { input: 10, output: 12, totalTokens: 22, cacheRead: 0, cacheWrite: 0 });
    assert.equal(wire.provider, 'fake');
    assert.equal(wire.model, 'fake-model');
    assert.deepEqual(wire.__openclaw, { id: 'a1', seq: 2, runId: 'run-1' });
    assert.equal(wire.idempotencyKey, undefined);
  });

  it('gives toolResult rows toolCallId, toolName and isError', () => {
    const wire = shapeMessage({
      id: 't1',
      role: 'toolResult',
      content: [{ type: 'text', text: 'result' }],
      timestamp: 1,
      toolCallId: 'call-1',
      toolName: 'read',
      isError: true,
      runId: 'r',
    });
    assert.equal(wire.toolCallId, 'call-1');
    assert.equal(wire.toolName, 'read');
    assert.equal(wire.isError, true);
    assert.equal(wire.role, 'toolResult');
  });

  it('turns a missing content array into an empty one (item 31)', () => {
    const broken = { id: 'x', role: 'user', timestamp: 1 } as unknown as StoredMessage;
    assert.deepEqual(shapeMessage(broken).content, []);
  });

  it('cuts text and thinking blocks to maxChars', () => {
    const wire = shapeMessage(
      {
        id: 'a',
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'abcdefgh' },
          { type: 'text', text: '0123456789' },
        ],
        timestamp: 1,
      },
      { maxChars: 4 },
    );
    assert.deepEqual(wire.content, [
      { type: 'thinking', thinking: 'abcd' },
      { type: 'text', text: '0123' },
    ]);
  });

  it('does not share the content array with the stored message', () => {
    const stored: StoredMessage = { id: 'a', role: 'user', content: [{ type: 'text', text: 'x' }], timestamp: 1 };
    const wire = shapeMessage(stored);
    wire.content.push({ type: 'text', text: 'y' });
    assert.equal(stored.content.length, 1);
  });
});

describe('shapeUsage and messageText', () => {
  it('fills missing counters with 0', () => {
    assert.deepEqual(shapeUsage(undefined), { input: 0, output: 0, totalTokens: 0, cacheRead: 0, cacheWrite: 0 });
  });
  it('joins text blocks only', () => {
    assert.equal(
      messageText({ content: [{ type: 'thinking', thinking: 'hm' }, { type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }),
      'ab',
    );
  });
});

describe('shapeSessionRow', () => {
  it('fills the §3.2 fields', () => {
    const row = shapeSessionRow(meta({ label: 'Peer capture' }), { defaults: DEFAULTS });
    assert.equal(row.key, 'agent:main:main');
    assert.equal(row.sessionId, '25ef2952-76a1-42b6-b93e-a5ed8b56c3d1');
    assert.equal(row.label, 'Peer capture');
    assert.equal(row.displayName, 'Peer capture');
    assert.equal(row.updatedAt, 2000);
    assert.equal(row.createdAt, 1000);
    assert.equal(row.totalTokens, 22);
    assert.equal(row.contextTokens, 128000);
    assert.equal(row.inputTokens, 10);
    assert.equal(row.outputTokens, 12);
    assert.equal(row.kind, 'direct');
    assert.equal(row.agentId, 'main');
    assert.equal(row.model, 'fake-model');
    assert.equal(row.modelProvider, 'fake');
    assert.equal(row.status, 'done');
    assert.equal(row.hasActiveRun, false);
    assert.equal(row.lastRunId, 'run-1');
    assert.equal(row.derivedTitle, null);
    assert.equal('lastMessage' in row, false);
  });

  it('adds derived titles and lastMessage only when asked', () => {
    const last: StoredMessage = { id: 'a', role: 'assistant', content: [{ type: 'text', text: 'yo' }], timestamp: 3 };
    const row = shapeSessionRow(meta(), { defaults: DEFAULTS, includeDerivedTitle: true, lastMessage: last, hasActiveRun: true });
    assert.equal(row.derivedTitle, 'Hi there');
    assert.equal(row.title, 'Hi there');
    assert.equal(row.status, 'running');
    assert.deepEqual(row.lastMessage?.content, [{ type: 'text', text: 'yo' }]);
    assert.equal(row.lastMessage?.__openclaw.seq, 2);
    assert.equal(shapeSessionRow(meta(), { defaults: DEFAULTS, lastMessage: null }).lastMessage, null);
  });

  it('contains no filesystem path', () => {
    const row = shapeSessionRow(meta(), { defaults: DEFAULTS, includeDerivedTitle: true });
    assert.doesNotMatch(JSON.stringify(row), /"\/|[A-Za-z]:\\\\/);
  });
});
