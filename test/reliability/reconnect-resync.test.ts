/**
 * Issue 6, item 3: a client that drops in the middle of a run and comes back
 * gets the finished reply through agent.wait and chat.history; the run was
 * neither restarted nor duplicated (the fake model counts its requests).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { okPayload, startStack, type Stack } from '../channels/openclaw/e2e-setup.js';

const CHUNKS = Array.from({ length: 10 }, (_, i) => `piece${i} `);
const REPLY = CHUNKS.join('');
const WAIT_MS = 10_000;

describe('reconnect in the middle of a run', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack();
    stack.fake.setDefault({ text: CHUNKS, chunkDelayMs: 60 });
  });
  after(() => stack.close());

  for (const how of ['terminate', 'close'] as const) {
    it(`gets the finished reply after a ${how === 'terminate' ? 'dropped socket' : 'clean close'}, from one model call`, async () => {
      const sessionKey = `agent:main:reconnect-${how}`;
      const requestsBefore = stack.fake.requests.length;
      const first = await stack.client();
      const sent = okPayload(await first.request('chat.send', { sessionKey, message: 'tell me', idempotencyKey: `rc-${how}` }));
      await first.waitFor((f) => f.event === 'chat' && f.payload?.runId === sent.runId && f.payload?.state === 'delta', WAIT_MS, 'first delta');
      if (how === 'terminate') first.ws.terminate();
      else await first.close();

      const second = await stack.client();
      // The client retries its send with the same key, as WebClaw does after a reconnect: no second run.
      const retry = okPayload(await second.request('chat.send', { sessionKey, message: 'tell me', idempotencyKey: `rc-${how}` }));
      assert.equal(retry.runId, sent.runId);
      assert.ok(['in_flight', 'ok'].includes(retry.status), `retry status ${retry.status}`);
      const waited = okPayload(await second.request('agent.wait', { runId: sent.runId, timeoutMs: WAIT_MS }, { timeoutMs: WAIT_MS + 1_000 }));
      assert.equal(waited.status, 'ok');

      const history = okPayload(await second.request('chat.history', { sessionKey }));
      const rows = history.messages.map((m: any) => [m.role, m.content.map((b: any) => b.text ?? '').join('')]);
      assert.deepEqual(rows, [
        ['user', 'tell me'],
        ['assistant', REPLY],
      ]);
      assert.equal(stack.fake.requests.length - requestsBefore, 1, 'exactly one model request for the run');
      assert.equal(stack.fake.stats.aborted, 0, 'the stream was not cut when the client left');
      await second.close();
    });
  }
});
