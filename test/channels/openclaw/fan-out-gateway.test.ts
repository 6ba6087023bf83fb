/**
 * Fan-out against the real gateway and event mapper: what a client sees of
 * runs that progressed while no client was connected.
 */

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { okPayload, REPLY_CHUNKS, REPLY_TEXT, settle, startStack, WAIT_MS, type Stack } from './e2e-setup.js';

/** Bound of the poll for the stored reply, ms. */
const STORED_WAIT_MS = 10_000;
const POLL_MS = 50;

/** Every file under dir, recursively, joined as text. */
async function readTree(dir: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) text += await readTree(path);
    else if (entry.isFile()) text += await readFile(path, 'utf8').catch(() => '');
  }
  return text;
}

describe('fan-out through the real mapper', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it('does not report a run as active once it ended while no client was connected', async () => {
    const sessionKey = `agent:main:${randomUUID()}`;
    const runId = randomUUID();
    stack.fake.enqueue({ text: REPLY_CHUNKS, chunkDelayMs: 150 });
    const first = await ProtocolClient.open(stack.wsUrl);
    okPayload(await first.connect({ token: stack.token }));
    okPayload(await first.request('chat.send', { sessionKey, message: 'hello', idempotencyKey: runId }));
    await first.waitFor((f) => f.type === 'event' && f.event === 'chat' && f.payload?.state === 'delta', WAIT_MS, 'first delta');
    await first.close();

    // The run finishes with nobody connected.
    const deadline = Date.now() + STORED_WAIT_MS;
    while (!(await readTree(stack.gateway.stateDir)).includes(REPLY_TEXT)) {
      assert.ok(Date.now() < deadline, 'reply stored in time');
      await settle(POLL_MS);
    }
    await settle(300);

    const second = await stack.client();
    okPayload(await second.request('sessions.subscribe', {}));
    okPayload(await second.request('sessions.patch', { key: sessionKey, label: 'renamed' }));
    const changed = await second.waitFor(
      (f) => f.type === 'event' && f.event === 'sessions.changed' && f.payload?.reason === 'patched',
      WAIT_MS,
      'sessions.changed patched',
    );
    assert.equal(changed.payload.session.hasActiveRun, false);
    assert.notEqual(changed.payload.session.status, 'running');
  });
});
