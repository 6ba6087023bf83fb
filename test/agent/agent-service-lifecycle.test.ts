import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { INTERRUPTED_TEXT } from '../../src/agent/recovery.js';
import { GatewayError } from '../../src/protocol/errors.js';
import { FileSessionStore } from '../../src/sessions/file-session-store.js';
import type { SessionStore, StoredMessage } from '../../src/sessions/types.js';
import { MAIN, startHarness } from './service-harness.js';
import type { Harness } from './service-harness.js';
import { createScriptedProvider, textReply } from './scripted-provider.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(...args: Parameters<typeof startHarness>): Promise<Harness> {
  harness = await startHarness(...args);
  return harness;
}

/** A store whose append fails with `code` while `failing(message)` says so. */
function faultyStore(inner: SessionStore, failing: (message: StoredMessage) => boolean, code = 'ENOSPC'): SessionStore {
  return {
    open: () => inner.open(),
    list: () => inner.list(),
    get: (key) => inner.get(key),
    ensure: (key) => inner.ensure(key),
    setLabel: (key, label) => inner.setLabel(key, label),
    setModel: (key, model) => inner.setModel(key, model),
    append: async (key, message) => {
      if (failing(message)) throw Object.assign(new Error(`${code}: no space left on device, write '/secret/path'`), { code });
      return inner.append(key, message);
    },
    history: (key, query) => inner.history(key, query),
    reset: (key) => inner.reset(key),
    delete: (key) => inner.delete(key),
    close: () => inner.close(),
  };
}

describe('AgentService storage faults', () => {
  it('refuses a turn it cannot store with a retryable UNAVAILABLE and acknowledges nothing', async () => {
    let diskFull = true;
    const h = await start({
      provider: createScriptedProvider([textReply(['ok'])]),
      wrapStore: (store) => faultyStore(store, () => diskFull),
    });
    await assert.rejects(h.agent.submit({ sessionKey: MAIN, text: 'hi', idempotencyKey: 'sf-1' }), (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.equal(e.code, 'UNAVAILABLE');
      assert.equal(e.retryable, true);
      assert.ok((e.retryAfterMs ?? 0) > 0);
      assert.match(e.message, /the disk is full/);
      assert.doesNotMatch(e.message, /secret\/path/);
      return true;
    });
    assert.equal(h.events.length, 0);
    assert.equal(h.agent.getRun('sf-1'), undefined);
    diskFull = false;
    const retry = await h.agent.submit({ sessionKey: MAIN, text: 'hi', idempotencyKey: 'sf-1' });
    assert.equal(retry.status, 'started');
    assert.equal((await h.runEnd('sf-1')).status, 'ok');
  });

  it('ends the run with an error when the reply cannot be stored, still with exactly one run.end', async () => {
    const h = await start({
      provider: createScriptedProvider([textReply(['lost'])]),
      wrapStore: (store) => faultyStore(store, (m) => m.role === 'assistant', 'EROFS'),
    });
    const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'hi' });
    const end = await h.runEnd(runId);
    assert.equal(end.status, 'error');
    assert.equal(end.error, 'could not save the reply: the state directory is read-only');
    assert.equal(end.message, undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(h.runEvents(runId).filter((e) => e.type === 'run.end').length, 1);
  });
});

describe('AgentService run timeout', () => {
  it('ends a run that exceeds turn.timeoutMs as an error and persists the partial reply', async () => {
    const provider = createScriptedProvider([[{ type: 'text', delta: 'thinking about it' }, { type: 'hang' }]]);
    const h = await start({ provider });
    const { runId } = await h.agent.submit({ sessionKey: MAIN, text: 'hi', timeoutMs: 100 });
    const end = await h.runEnd(runId);
    assert.equal(end.status, 'error');
    assert.equal(end.stopReason, 'timeout');
    assert.equal(end.error, 'the run timed out after 0.1 s');
    assert.equal(end.message?.stopReason, 'error');
    assert.deepEqual(end.message?.content, [{ type: 'text', text: 'thinking about it' }]);
    assert.equal(provider.open, 0);
  });
});

describe('AgentService.drain', () => {
  it('refuses new turns at once with a retryable shutdown error and lets running runs finish', async () => {
    const provider = createScriptedProvider([[{ type: 'pause', ms: 80 }, ...textReply(['finished'])]]);
    const h = await start({ provider });
    const runs = await Promise.all([1, 2, 3].map((n) => h.agent.submit({ sessionKey: `agent:main:d${n}`, text: 'hi' })));
    const draining = h.agent.drain(3_000);
    await assert.rejects(h.agent.submit({ sessionKey: MAIN, text: 'late' }), (e: unknown) => {
      assert.ok(e instanceof GatewayError);
      assert.equal(e.code, 'UNAVAILABLE');
      assert.equal(e.retryable, true);
      assert.ok((e.retryAfterMs ?? 0) > 0);
      assert.deepEqual(e.details, { reason: 'shutdown' });
      return true;
    });
    const started = Date.now();
    await draining;
    assert.ok(Date.now() - started < 1_000, 'drain returned when the runs ended');
    for (const run of runs) assert.equal(h.agent.getRun(run.runId)?.status, 'ok');
    assert.equal(h.store.get(MAIN), undefined);
  });

  it('aborts what is still running at the budget, persisting partial replies, and returns within the budget', async () => {
    const provider = createScriptedProvider([[{ type: 'text', delta: 'part' }, { type: 'hang' }]]);
    const h = await start({ provider });
    const running = await Promise.all([1, 2, 3].map((n) => h.agent.submit({ sessionKey: `agent:main:d${n}`, text: 'hi' })));
    const queued = await h.agent.submit({ sessionKey: 'agent:main:d1', text: 'queued' });
    await Promise.all(running.map((r) => h.nextEvent((e) => e.type === 'text.delta' && e.runId === r.runId)));
    const started = Date.now();
    await h.agent.drain(600);
    const took = Date.now() - started;
    assert.ok(took < 900, `drain took ${took} ms`);
    for (const run of [...running, queued]) {
      const end = await h.runEnd(run.runId);
      assert.equal(end.status, 'aborted');
      assert.equal(end.stopReason, 'shutdown');
    }
    const page = await h.store.history('agent:main:d1');
    assert.deepEqual(
      page.messages.map((m) => `${m.role}:${m.stopReason ?? ''}`),
      // Each run's row right after its own user message (issue 13, item 9).
      ['user:', 'assistant:aborted', 'user:', 'assistant:aborted'],
    );
    assert.deepEqual(page.messages[1]?.content, [{ type: 'text', text: 'part' }]);
    assert.equal(h.agent.activeRuns().length, 0);
    assert.equal(provider.open, 0);
  });
});

describe('AgentService.recoverInterruptedRuns', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pincer-recovery-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('closes runs cut by a crash as interrupted and remembers recent runs for idempotency', async () => {
    // The state a SIGKILL leaves behind: acknowledged user messages, some without replies.
    const seeded = new FileSessionStore({ dir: join(dir, 'sessions'), logger: { warn: () => undefined } });
    await seeded.open();
    const now = Date.now();
    const user = (runId: string, text: string): StoredMessage => ({
      id: `u-${runId}`,
      role: 'user',
      content: [{ type: 'text', text }],
      timestamp: now,
      runId,
      idempotencyKey: runId,
    });
    await seeded.append(MAIN, user('done-1', 'answered'));
    await seeded.append(MAIN, {
      id: 'a-done-1',
      role: 'assistant',
      content: [{ type: 'text', text: 'an answer' }],
      timestamp: now,
      runId: 'done-1',
      stopReason: 'stop',
    });
    await seeded.append(MAIN, user('cut-1', 'was streaming'));
    await seeded.append(MAIN, user('cut-2', 'was queued'));
    await seeded.append('agent:main:tools', user('cut-3', 'mid tools'));
    await seeded.append('agent:main:tools', {
      id: 'a-cut-3',
      role: 'assistant',
      content: [{ type: 'toolCall', id: 't1', name: 'x', arguments: {} }],
      timestamp: now,
      runId: 'cut-3',
      stopReason: 'toolUse',
    });
    await seeded.close();

    const h = await start({ provider: createScriptedProvider([textReply(['fresh'])]), dir });
    assert.equal(await h.agent.recoverInterruptedRuns(), 3);
    const main = await h.store.history(MAIN);
    assert.deepEqual(
      main.messages.map((m) => `${m.role}:${m.runId}:${m.stopReason ?? ''}`),
      ['user:done-1:', 'assistant:done-1:stop', 'user:cut-1:', 'assistant:cut-1:interrupted', 'user:cut-2:', 'assistant:cut-2:interrupted'],
    );
    assert.deepEqual(main.messages[3]?.content, [{ type: 'text', text: INTERRUPTED_TEXT }]);
    const tools = await h.store.history('agent:main:tools');
    assert.equal(tools.messages.at(-1)?.stopReason, 'interrupted');
    assert.equal(h.events.filter((e) => e.type === 'session.message').length, 3);

    // A client retrying after the restart gets the recorded outcome, not a second run.
    assert.deepEqual(await h.agent.submit({ sessionKey: MAIN, text: 'answered', idempotencyKey: 'done-1' }), { runId: 'done-1', status: 'ok' });
    assert.deepEqual(await h.agent.submit({ sessionKey: MAIN, text: 'was streaming', idempotencyKey: 'cut-1' }), { runId: 'cut-1', status: 'error' });
    await assert.rejects(h.agent.submit({ sessionKey: MAIN, text: 'other', idempotencyKey: 'cut-1' }), /idempotency key reused/);
    assert.equal(h.agent.getRun('done-1')?.text, 'an answer');
    assert.equal(h.agent.getRun('cut-1')?.error, 'the gateway stopped during this reply');
    assert.equal((await h.store.history(MAIN)).messages.length, 6);

    assert.equal(await h.agent.recoverInterruptedRuns(), 0, 'a second pass changes nothing');
  });
});
