import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MAX_AGENTS_MD_BYTES, buildModelRequest, readWorkspaceInstructions } from '../../src/agent/context.js';
import type { StoredMessage } from '../../src/sessions/types.js';

let nextId = 0;
function msg(role: StoredMessage['role'], text: string, extra: Partial<StoredMessage> = {}): StoredMessage {
  return { id: `m${++nextId}`, role, content: text === '' ? [] : [{ type: 'text', text }], timestamp: nextId, ...extra };
}

function texts(request: ReturnType<typeof buildModelRequest>): string[] {
  return request.messages.map((m) => `${m.role}:${m.content.map((b) => (b.type === 'text' ? b.text : b.type)).join('|')}`);
}

describe('buildModelRequest', () => {
  it('ends with the run’s own user message and leaves out later queued turns', () => {
    const u1 = msg('user', 'one', { runId: 'r1' });
    const u2 = msg('user', 'two', { runId: 'r2' });
    const request = buildModelRequest({ history: [u1, u2], userMessageId: u1.id, maxMessages: 50 });
    assert.deepEqual(texts(request), ['user:one']);
  });

  it('puts a queued turn after the reply it waited for', () => {
    const history = [
      msg('user', 'one', { runId: 'r1' }),
      msg('user', 'two', { runId: 'r2' }),
      msg('assistant', 'reply one', { runId: 'r1', stopReason: 'stop' }),
    ];
    const request = buildModelRequest({ history, userMessageId: history[1]!.id, maxMessages: 50 });
    assert.deepEqual(texts(request), ['user:one', 'assistant:reply one', 'user:two']);
  });

  it('hides failed, interrupted and empty assistant rows from the model', () => {
    const history = [
      msg('user', 'a', { runId: 'r1' }),
      msg('assistant', '', { runId: 'r1', stopReason: 'error', errorMessage: 'boom' }),
      msg('user', 'b', { runId: 'r2' }),
      msg('assistant', '[interrupted: the gateway stopped during this reply]', { runId: 'r2', stopReason: 'interrupted' }),
      msg('user', 'c', { runId: 'r3' }),
      msg('assistant', '', { runId: 'r3', stopReason: 'aborted' }),
      msg('user', 'd', { runId: 'r4' }),
    ];
    const request = buildModelRequest({ history, userMessageId: history[6]!.id, maxMessages: 50 });
    assert.deepEqual(texts(request), ['user:a', 'user:b', 'user:c', 'user:d']);
  });

  it('pairs tool calls with results: orphan results dropped, missing results synthesised', () => {
    const call = (id: string): StoredMessage => ({
      id: `call-${id}`,
      role: 'assistant',
      content: [{ type: 'toolCall', id, name: 'echo', arguments: {} }],
      timestamp: 1,
      runId: 'r1',
      stopReason: 'toolUse',
    });
    const result = (id: string): StoredMessage => ({
      id: `res-${id}`,
      role: 'toolResult',
      content: [{ type: 'text', text: 'ok' }],
      timestamp: 1,
      runId: 'r1',
      toolCallId: id,
      toolName: 'echo',
      isError: false,
    });
    const history = [msg('user', 'go', { runId: 'r1' }), result('ghost'), call('a'), result('a'), call('b'), msg('user', 'next', { runId: 'r2' })];
    const request = buildModelRequest({ history, userMessageId: history[5]!.id, maxMessages: 50 });
    assert.deepEqual(
      request.messages.map((m) => (m.role === 'toolResult' ? `result:${m.toolCallId}:${m.isError}` : m.role)),
      ['user', 'assistant', 'result:a:false', 'assistant', 'result:b:true', 'user'],
    );
  });

  it('keeps the newest messages within the message and character budgets, starting at a user message', () => {
    const history: StoredMessage[] = [];
    for (let i = 0; i < 10; i++) {
      history.push(msg('user', `q${i}`, { runId: `r${i}` }), msg('assistant', `a${i}`.padEnd(100, '.'), { runId: `r${i}`, stopReason: 'stop' }));
    }
    const last = msg('user', 'now', { runId: 'rn' });
    history.push(last);
    const byCount = buildModelRequest({ history, userMessageId: last.id, maxMessages: 4 });
    assert.deepEqual(texts(byCount).map((t) => t.slice(0, 8)), ['user:q9', 'assistan', 'user:now']);
    const byChars = buildModelRequest({ history, userMessageId: last.id, maxMessages: 100, maxChars: 250 });
    assert.equal(byChars.messages[0]?.role, 'user');
    assert.ok(byChars.messages.length <= 5 && byChars.messages.length >= 3, `got ${byChars.messages.length}`);
    const tiny = buildModelRequest({ history, userMessageId: last.id, maxMessages: 100, maxChars: 1 });
    assert.deepEqual(texts(tiny), ['user:now'], 'the run’s own message always goes');
  });

  it('joins the system prompt, workspace instructions and extra prompt', () => {
    const u = msg('user', 'x', { runId: 'r' });
    const request = buildModelRequest({
      history: [u],
      userMessageId: u.id,
      maxMessages: 10,
      systemPrompt: 'You are Pincer.',
      workspaceInstructions: 'Be brief.',
      extraSystemPrompt: 'Answer in French.',
      tools: [{ name: 't', description: 'd', parameters: {} }],
      thinking: 'low',
    });
    assert.equal(request.systemPrompt, 'You are Pincer.\n\n# Workspace instructions (AGENTS.md)\n\nBe brief.\n\nAnswer in French.');
    assert.equal(request.tools?.length, 1);
    assert.equal(request.thinking, 'low');
    assert.equal(buildModelRequest({ history: [u], userMessageId: u.id, maxMessages: 10 }).systemPrompt, undefined);
  });
});

describe('readWorkspaceInstructions', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pincer-context-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns undefined without a workspace or without AGENTS.md', async () => {
    assert.equal(await readWorkspaceInstructions(undefined), undefined);
    assert.equal(await readWorkspaceInstructions(dir), undefined);
  });

  it('reads AGENTS.md, capped', async () => {
    await writeFile(join(dir, 'AGENTS.md'), `  Use tabs.\n${'z'.repeat(MAX_AGENTS_MD_BYTES * 2)}`);
    const text = await readWorkspaceInstructions(dir);
    assert.ok(text?.startsWith('Use tabs.'));
    assert.ok((text?.length ?? 0) <= MAX_AGENTS_MD_BYTES);
  });
});
