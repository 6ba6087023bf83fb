import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryReclaimer } from '../../src/util/memory-reclaimer.js';

/** Poll until `check` holds, bounded. */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Keep the event loop busy for about `ms`. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy on purpose
  }
}

describe('memory reclaimer', () => {
  it('collects once after a quiet window that follows activity, and not again until the next activity', async () => {
    const calls: unknown[] = [];
    const reclaimer = createMemoryReclaimer({ quietMs: 50, gc: (options) => void calls.push(options) });
    try {
      await sleep(150);
      assert.equal(calls.length, 0, 'nothing happened, nothing collected');
      reclaimer.poke();
      reclaimer.poke();
      await until(() => calls.length === 1, 'the first collection');
      assert.deepEqual(calls[0], { type: 'major', execution: 'async' });
      await sleep(200);
      assert.equal(calls.length, 1, 'one collection per burst');
      reclaimer.poke();
      await until(() => calls.length === 2, 'the collection after the next burst');
      assert.equal(reclaimer.collections, 2);
    } finally {
      reclaimer.stop();
    }
  });

  it('waits while the event loop stays busy', async () => {
    const calls: unknown[] = [];
    const reclaimer = createMemoryReclaimer({ quietMs: 40, gc: () => void calls.push(1) });
    try {
      reclaimer.poke();
      // Busy for most of every window for about 300 ms: no window is quiet.
      const busyUntil = Date.now() + 300;
      while (Date.now() < busyUntil) {
        spin(35);
        await sleep(1);
      }
      assert.equal(calls.length, 0, 'no collection while busy');
      await until(() => calls.length === 1, 'the collection once quiet');
    } finally {
      reclaimer.stop();
    }
  });

  it('stops: an armed window never collects', async () => {
    const calls: unknown[] = [];
    const reclaimer = createMemoryReclaimer({ quietMs: 20, gc: () => void calls.push(1) });
    reclaimer.poke();
    reclaimer.stop();
    reclaimer.poke();
    await sleep(150);
    assert.equal(calls.length, 0);
  });

  it("runs V8's own collector without --expose-gc and gives back a burst's garbage", async () => {
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'the test runs without --expose-gc');
    const reclaimer = createMemoryReclaimer({ quietMs: 30 });
    try {
      let burst: string[] | undefined = Array.from({ length: 200_000 }, (_, i) => `garbage ${i} `.repeat(4));
      const grown = process.memoryUsage().heapUsed;
      assert.ok(burst.length > 0);
      burst = undefined;
      reclaimer.poke();
      await until(() => reclaimer.collections === 1, 'the collection');
      // The collection is incremental: poll until V8 has finished it.
      await until(() => process.memoryUsage().heapUsed < grown - 10 * 1024 * 1024, 'the heap to shrink by 10 MiB');
      assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'gc stays off the global object');
    } finally {
      reclaimer.stop();
    }
  });
});
