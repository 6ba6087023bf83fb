/**
 * The per-run delta throttle (issue 13 item 7), with no sockets: which
 * events leave at once, how held deltas merge, and that nothing of a run is
 * reordered or lost.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentEvent, RunEvent } from '../../../src/agent/types.js';
import { createDeltaThrottle } from '../../../src/channels/openclaw/delta-throttle.js';

const RUN = 'run-1';
const KEY = 'agent:main:main';
const WAIT_MS = 2_000;

function textDeltas(chunks: string[], runId = RUN, prefix = ''): RunEvent[] {
  let text = prefix;
  return chunks.map((delta) => {
    text += delta;
    return { type: 'text.delta', runId, sessionKey: KEY, delta, text };
  });
}

function end(runId = RUN): RunEvent {
  return { type: 'run.end', runId, sessionKey: KEY, status: 'ok', stopReason: 'stop', startedAt: 0, endedAt: 1 };
}

function collect(options: Parameters<typeof createDeltaThrottle>[1] = {}) {
  const out: AgentEvent[] = [];
  const throttle = createDeltaThrottle((event) => out.push(event), options);
  return { out, throttle };
}

describe('delta throttle', () => {
  it('sends the first delta of a run at once and merges a burst into one delta before the end', () => {
    const { out, throttle } = collect();
    const chunks = Array.from({ length: 2000 }, (_, i) => `c${i} `);
    for (const event of textDeltas(chunks)) throttle.push(event);
    assert.equal(out.length, 1, 'only the first delta left during the burst');
    assert.deepEqual(out[0], textDeltas(chunks)[0]);
    throttle.push(end());
    assert.equal(out.length, 3);
    const merged = out[1] as Extract<RunEvent, { type: 'text.delta' }>;
    assert.equal(merged.type, 'text.delta');
    assert.equal(merged.delta, chunks.slice(1).join(''), 'the held deltas, joined');
    assert.equal(merged.text, chunks.join(''), 'the reply so far');
    assert.equal(out[2]!.type, 'run.end');
    assert.equal(throttle.timers, 0);
  });

  it('flushes held deltas before any other event of the run, and never merges across a new message', () => {
    const { out, throttle } = collect();
    for (const event of textDeltas(['a', 'b', 'c'])) throttle.push(event);
    throttle.push({ type: 'tool.call', runId: RUN, sessionKey: KEY, toolCallId: 't1', name: 'read', arguments: {} });
    throttle.push({ type: 'tool.result', runId: RUN, sessionKey: KEY, toolCallId: 't1', name: 'read', content: [], isError: false });
    // The next assistant message restarts its text; it leaves at once, and its followers merge.
    for (const event of textDeltas(['x', 'y', 'z'])) throttle.push(event);
    throttle.push({ type: 'thinking.delta', runId: RUN, sessionKey: KEY, delta: 'hmm', text: 'hmm' });
    throttle.push(end());
    const summary = out.map((e) => (e.type === 'text.delta' || e.type === 'thinking.delta' ? `${e.type}:${e.delta}/${e.text}` : e.type));
    assert.deepEqual(summary, [
      'text.delta:a/a',
      'text.delta:bc/abc',
      'tool.call',
      'tool.result',
      'text.delta:x/x',
      'text.delta:yz/xyz',
      'thinking.delta:hmm/hmm',
      'run.end',
    ]);
  });

  it('keeps runs apart and flushes a session\'s held deltas before a session event', () => {
    const { out, throttle } = collect();
    for (const event of textDeltas(['a', 'b'], 'r1')) throttle.push(event);
    for (const event of textDeltas(['p', 'q'], 'r2')) throttle.push(event);
    throttle.push({ type: 'session.changed', sessionKey: KEY, reason: 'patched' });
    const summary = out.map((e) => (e.type === 'text.delta' ? `${e.runId}:${e.delta}` : e.type));
    assert.deepEqual(summary, ['r1:a', 'r2:p', 'r1:b', 'r2:q', 'session.changed']);
    throttle.close();
    assert.equal(throttle.timers, 0);
  });

  it('sends a held delta after the interval once the text grew enough, without waiting for more', async () => {
    const { out, throttle } = collect({ minIntervalMs: 20, maxHoldMs: 60_000 });
    for (const event of textDeltas(['first ', 'second, much longer than the first'])) throttle.push(event);
    assert.equal(out.length, 1);
    assert.equal(throttle.timers, 1);
    await waitUntil(() => out.length === 2);
    assert.equal((out[1] as { text: string }).text, 'first second, much longer than the first');
    assert.equal(throttle.timers, 0);
  });

  it('holds a small growth until the longer hold, so a long reply is not resent for every few bytes', async () => {
    let clock = 0;
    const { out, throttle } = collect({ minIntervalMs: 10, maxHoldMs: 40, now: () => clock });
    const long = 'x'.repeat(1000);
    throttle.push(textDeltas([long])[0]!);
    clock = 20;
    throttle.push(textDeltas(['y'], RUN, long)[0]!);
    assert.equal(out.length, 1, '1 byte on 1000 sent is held past the min interval');
    clock = 41;
    await waitUntil(() => out.length === 2);
    throttle.push(end());
    assert.equal(out.at(-1)!.type, 'run.end');
  });
});

async function waitUntil(test: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
