/**
 * Issue 6, item 6: many connect → auth → chat → disconnect cycles against one
 * in-process gateway. At the end the channel tracks 0 connections,
 * subscriptions and timers, the active handles are back to the baseline and
 * the heap after GC is within 10 % of the baseline taken after a warm-up.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { collectGarbage, soakCount } from './soak-settings.js';
import { MAX_ENDED_RUN_RECORDS } from '../../src/agent/run-registry.js';

const CYCLES = soakCount('LEAK_CYCLES', 300, 10_000);
/**
 * Cycles before the baseline, so pools, caches and JIT have settled. A soak
 * long enough to fill the run registry (ended runs are remembered, bounded,
 * for idempotency) fills it first: growth up to that bound is by design.
 */
const WARMUP_CYCLES = CYCLES > MAX_ENDED_RUN_RECORDS ? MAX_ENDED_RUN_RECORDS + 100 : Math.max(200, Math.floor(CYCLES / 10));
/** Clients cycling at the same time, each on its own session, which every cycle deletes so stored data stays flat. */
const PARALLEL_CLIENTS = 4;
const HEAP_TOLERANCE = 0.1;
const WAIT_MS = 10_000;
const REPLY = ['Leak', ' check', ' reply.'];

describe('leak soak: connect, auth, chat, disconnect', { timeout: 60_000 + (WARMUP_CYCLES + CYCLES) * 30 }, () => {
  let fake: FakeModelServer;
  let gateway: StartedGateway;
  /** Heap growth over the soak, as a share of the baseline. */
  let heapGrowth: number | undefined;

  before(async () => {
    fake = await startFakeModelServer({ defaultReply: { text: REPLY }, zeroDelay: true });
    gateway = await startGateway({
      overrides: { provider: { kind: 'openai', baseUrl: fake.url, apiKey: 'k', model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 } },
    });
  });
  after(async () => {
    await gateway.close();
    await fake.close();
  });

  async function cycle(i: number, worker: number): Promise<void> {
    const client = await ProtocolClient.open(gateway.wsUrl);
    try {
      const hello = await client.connect({ token: gateway.token });
      assert.equal(hello.ok, true, `cycle ${i}: connect`);
      const sessionKey = `agent:main:leak-${worker}`;
      const sent = await client.request('chat.send', { sessionKey, message: `cycle ${i}`, idempotencyKey: `leak-${i}` });
      assert.equal(sent.ok, true, `cycle ${i}: chat.send ${JSON.stringify(sent.error)}`);
      const runId = sent.payload.runId as string;
      const end = await client.waitFor((f) => f.event === 'chat' && f.payload?.runId === runId && f.payload?.state !== 'delta', WAIT_MS, 'final');
      assert.equal(end.payload.state, 'final', `cycle ${i}: run ended ${end.payload.state}`);
      assert.equal((await client.request('sessions.delete', { key: sessionKey })).ok, true, `cycle ${i}: sessions.delete`);
    } finally {
      await client.close();
    }
  }

  /** Cycles `from` to `to` - 1, PARALLEL_CLIENTS at a time (each on its own session, so none waits on another's run). */
  async function runCycles(from: number, to: number): Promise<void> {
    let next = from;
    const worker = async (index: number): Promise<void> => {
      while (next < to) await cycle(next++, index);
    };
    await Promise.all(Array.from({ length: PARALLEL_CLIENTS }, (_, index) => worker(index)));
  }

  async function settled(): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (gateway.pincer.channelStats()!.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // Let closed sockets release their handles.
    await new Promise((r) => setTimeout(r, 100));
    // The fake model records every request it served in this process; that log is the fixture's, not the gateway's.
    fake.reset();
    collectGarbage();
  }

  it(`returns to baseline after ${CYCLES} cycles`, async () => {
    await runCycles(0, WARMUP_CYCLES);
    await settled();
    const baseHandles = handleCounts();
    const baseHeap = process.memoryUsage().heapUsed;
    const startedAt = Date.now();

    await runCycles(WARMUP_CYCLES, WARMUP_CYCLES + CYCLES);
    const cyclesMs = Date.now() - startedAt;
    await settled();

    const stats = gateway.pincer.channelStats()!;
    const handles = handleCounts();
    const heap = process.memoryUsage().heapUsed;
    const growth = (heap - baseHeap) / baseHeap;
    console.log(
      `leak soak: ${CYCLES} cycles in ${cyclesMs} ms (${(cyclesMs / CYCLES).toFixed(1)} ms each); channel ${stats.connections} connections,` +
        ` ${stats.subscriptions} subscriptions, ${stats.timers} timers; handles ${JSON.stringify(baseHandles)} → ${JSON.stringify(handles)};` +
        ` heap after GC ${mb(baseHeap)} → ${mb(heap)} MB (${(growth * 100).toFixed(1)} %, ${Math.round((heap - baseHeap) / CYCLES)} B/cycle)`,
    );
    assert.equal(stats.connections, 0, 'connections');
    assert.equal(stats.pending, 0, 'pending handshakes');
    assert.equal(stats.pendingIps, 0, 'pending IP counters');
    assert.equal(stats.subscriptions, 0, 'subscriptions');
    assert.equal(stats.timers, 0, 'timers');
    assert.equal(stats.sendErrors, 0, 'writes to closed sockets');
    for (const type of new Set([...Object.keys(baseHandles), ...Object.keys(handles)])) {
      // The provider's HTTP keep-alive pool to the fake model may hold a few more or fewer idle sockets.
      const slack = type === 'TCPSocketWrap' ? 2 * PARALLEL_CLIENTS : 0;
      assert.ok((handles[type] ?? 0) <= (baseHandles[type] ?? 0) + slack, `active ${type}: ${baseHandles[type] ?? 0} → ${handles[type] ?? 0}`);
    }
    heapGrowth = growth;
  });

  it('keeps the heap after GC within 10 % of the baseline', () => {
    assert.ok(heapGrowth !== undefined, 'the soak above did not finish');
    assert.ok(heapGrowth < HEAP_TOLERANCE, `heap grew ${(heapGrowth * 100).toFixed(1)} %`);
  });
});

/** Active libuv resources by type (sockets, timers, servers), as Node reports them. */
function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
