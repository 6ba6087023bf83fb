/**
 * Handed-back tool calls in the store: the assistant row that hands calls to
 * the client closes its run (so crash recovery does not mark it interrupted,
 * also after a reload), the session knows which calls await results, and
 * results for other calls are refused before anything is stored.
 */

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { clientToolResultRows, pendingClientToolCalls } from '../../src/agent/client-tools.js';
import { GatewayError } from '../../src/protocol/errors.js';
import { closesRun } from '../../src/sessions/open-runs.js';
import type { StoredMessage } from '../../src/sessions/types.js';
import { startHarness, type Harness } from './service-harness.js';

const KEY = 'agent:main:client-tools';

function handBack(runId: string, calls: { id: string; name: string }[]): StoredMessage {
  return {
    id: `a-${runId}`,
    role: 'assistant',
    content: calls.map((call) => ({ type: 'toolCall', id: call.id, name: call.name, arguments: {} })),
    timestamp: 1,
    runId,
    stopReason: 'toolUse',
    awaitsClientTools: true,
  };
}

let harness: Harness | undefined;
let cleanup: string | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  if (cleanup !== undefined) await rm(cleanup, { recursive: true, force: true });
  cleanup = undefined;
});

describe('handed-back tool calls', () => {
  it('close their run, so recovery after a restart leaves them alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pincer-client-tools-'));
    cleanup = dir;
    const first = await startHarness({ provider: undefined, dir });
    await first.store.append(KEY, { id: 'u1', role: 'user', content: [{ type: 'text', text: 'weather?' }], timestamp: 1, runId: 'r1' });
    await first.store.append(KEY, handBack('r1', [{ id: 'c1', name: 'get_weather' }]));
    assert.equal(closesRun(handBack('r1', [])), true);
    assert.equal(closesRun({ ...handBack('r1', []), awaitsClientTools: undefined }), false, 'a plain toolUse row does not');
    await first.close();

    harness = await startHarness({ provider: undefined, dir });
    assert.equal(await harness.agent.recoverInterruptedRuns(), 0);
    const { messages } = await harness.store.history(KEY);
    assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant']);
    assert.equal(messages[1]?.awaitsClientTools, true, 'the marker survives a reload');
    assert.deepEqual(pendingClientToolCalls(messages).map((call) => call.id), ['c1']);
  });

  it('await results until answered, and refuse results for other calls', () => {
    const history: StoredMessage[] = [
      { id: 'u1', role: 'user', content: [{ type: 'text', text: 'q' }], timestamp: 1, runId: 'r1' },
      handBack('r1', [{ id: 'c1', name: 'get_weather' }, { id: 'c2', name: 'get_time' }]),
    ];
    const pending = pendingClientToolCalls(history);
    assert.deepEqual(pending.map((call) => call.id), ['c1', 'c2']);
    const rows = clientToolResultRows([{ callId: 'c2', output: 'noon' }, { name: 'get_weather', output: 'sunny' }], pending, 'r2', 5);
    assert.deepEqual(rows.map((row) => [row.role, row.toolCallId, row.toolName, row.runId]), [
      ['toolResult', 'c2', 'get_time', 'r2'],
      ['toolResult', 'c1', 'get_weather', 'r2'],
    ]);
    assert.deepEqual(pendingClientToolCalls([...history, rows[0]!]).map((call) => call.id), ['c1']);
    assert.deepEqual(pendingClientToolCalls([...history, ...rows]), []);
    assert.throws(
      () => clientToolResultRows([{ callId: 'c9', output: 'x' }], pending, 'r2', 5),
      (error: unknown) => error instanceof GatewayError && error.detailCode === 'UNKNOWN_TOOL_CALL' && /c9/.test(error.message),
    );
    const later: StoredMessage = { id: 'u2', role: 'user', content: [{ type: 'text', text: 'never mind' }], timestamp: 6, runId: 'r3' };
    assert.deepEqual(pendingClientToolCalls([...history, later]), [], 'a new message ends the wait');
  });
});
