import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryReclaimer } from '../../src/util/memory-reclaimer.js';

const MIB = 1024 * 1024;

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

/** A reclaimer on a fake RSS that a fake collection brings back down. */
function fakeReclaimer(rss: { now: number }, calls: unknown[]) {
  return createMemoryReclaimer({
    quietMs: 60,
    tickMs: 20,
    minGrowthBytes: 8 * MIB,
    readRss: () => rss.now,
    gc: (options) => {
      calls.push(options);
      rss.now = 60 * MIB;
    },
  });
}

describe('memory reclaimer', () => {
  it('collects once after the quiet that follows a burst that grew RSS, then waits for the next one', async () => {
    const rss = { now: 50 * MIB };
    const calls: unknown[] = [];
    const reclaimer = fakeReclaimer(rss, calls);
    try {
      await sleep(150);
      assert.equal(calls.length, 0, 'nothing happened, nothing collected');
      rss.now = 120 * MIB;
      reclaimer.poke();
      reclaimer.poke();
      await until(() => calls.length === 2, 'the two collections');
      assert.deepEqual(calls, [{ type: 'major', execution: 'async' }, { type: 'major', execution: 'async' }]);
      await sleep(300);
      assert.deepEqual([calls.length, reclaimer.collections], [2, 1], 'memory handed back once per burst');
      // Light traffic that grew nothing: no collection however often it comes.
      for (let i = 0; i < 5; i++) {
        reclaimer.poke();
        await sleep(100);
      }
      assert.equal(calls.length, 2, 'nothing grew since the last collection (60 MiB is the new baseline)');
      rss.now = 90 * MIB;
      reclaimer.poke();
      await until(() => reclaimer.collections === 2, 'the collections after the next burst');
    } finally {
      reclaimer.stop();
    }
  });

  it('waits while the event loop stays busy', async () => {
    const rss = { now: 200 * MIB };
    const calls: unknown[] = [];
    const reclaimer = fakeReclaimer(rss, calls);
    rss.now = 300 * MIB;
    try {
      reclaimer.poke();
      // Busy for most of every tick for about 300 ms: no quiet period.
      const busyUntil = Date.now() + 300;
      while (Date.now() < busyUntil) {
        spin(15);
        await sleep(1);
      }
      assert.equal(calls.length, 0, 'no collection while busy');
      await until(() => calls.length >= 1, 'the collection once quiet');
    } finally {
      reclaimer.stop();
    }
  });

  it('stops: a watch in progress never collects', async () => {
    const rss = { now: 50 * MIB };
    const calls: unknown[] = [];
    const reclaimer = fakeReclaimer(rss, calls);
    rss.now = 500 * MIB;
    reclaimer.poke();
    reclaimer.stop();
    reclaimer.poke();
    await sleep(200);
    assert.equal(calls.length, 0);
  });

  it("runs V8's own collector without --expose-gc and gives back a burst's garbage", async () => {
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'the test runs without --expose-gc');
    const reclaimer = createMemoryReclaimer({ quietMs: 40, tickMs: 20, minGrowthBytes: 0 });
    try {
      let burst: string[] | undefined = Array.from({ length: 200_000 }, (_, i) => `garbage ${i} `.repeat(4));
      const grown = process.memoryUsage().heapUsed;
      assert.ok(burst.length > 0);
      burst = undefined;
      reclaimer.poke();
      await until(() => reclaimer.collections === 1, 'the collection');
      // The collection is incremental: poll until V8 has finished it.
      await until(() => process.memoryUsage().heapUsed < grown - 10 * MIB, 'the heap to shrink by 10 MiB');
      assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'gc stays off the global object');
    } finally {
      reclaimer.stop();
    }
  });
});
