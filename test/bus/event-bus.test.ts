import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { createEventBus } from '../../src/bus/event-bus.js';

interface Tagged {
  session: string;
  n: number;
}

const PER_SESSION = 1_000;

/** Let queued microtasks (the bus drains) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function forSession(session: string) {
  return { filter: (event: Tagged) => event.session === session, maxQueue: 100_000 };
}

/** Publish PER_SESSION events for each session, interleaved, with a yield every few events. */
async function publishInterleaved(publish: (event: Tagged) => void, sessions: string[], onEach?: (i: number) => void): Promise<void> {
  for (let n = 0; n < PER_SESSION; n++) {
    for (const session of sessions) publish({ session, n });
    onEach?.(n);
    if (n % 97 === 0) await settle();
  }
  await settle();
}

function assertExactlyInOrder(received: Tagged[], session: string, count = PER_SESSION): void {
  assert.equal(received.length, count, `${session}: got ${received.length} events, expected ${count}`);
  received.forEach((event, i) => {
    assert.equal(event.session, session, `event for ${event.session} delivered to a ${session} subscriber`);
    assert.equal(event.n, i, `${session}: event ${i} out of order (got ${event.n})`);
  });
}

describe('createEventBus', () => {
  it('fans 1,000 tagged events per session out exactly once, in order, only to their subscribers', async () => {
    const bus = createEventBus<Tagged>();
    const main = [[], [], []] as Tagged[][];
    const other1: Tagged[] = [];
    const other2: Tagged[] = [];
    for (const bucket of main) bus.subscribe((e) => bucket.push(e), forSession('main'));
    bus.subscribe((e) => other1.push(e), forSession('s1'));
    bus.subscribe((e) => other2.push(e), forSession('s2'));
    assert.equal(bus.subscriberCount, 5);

    await publishInterleaved((e) => bus.publish(e), ['main', 's1', 's2']);

    for (const bucket of main) assertExactlyInOrder(bucket, 'main');
    assertExactlyInOrder(other1, 's1');
    assertExactlyInOrder(other2, 's2');
  });

  it('keeps delivery exact for the others when one subscriber leaves halfway', async () => {
    const bus = createEventBus<Tagged>();
    const stays = [[], []] as Tagged[][];
    const leaver: Tagged[] = [];
    const other1: Tagged[] = [];
    const other2: Tagged[] = [];
    for (const bucket of stays) bus.subscribe((e) => bucket.push(e), forSession('main'));
    const leaving = bus.subscribe((e) => leaver.push(e), forSession('main'));
    bus.subscribe((e) => other1.push(e), forSession('s1'));
    bus.subscribe((e) => other2.push(e), forSession('s2'));

    await publishInterleaved((e) => bus.publish(e), ['main', 's1', 's2'], (n) => {
      if (n === PER_SESSION / 2 - 1) leaving.unsubscribe();
    });

    for (const bucket of stays) assertExactlyInOrder(bucket, 'main');
    assertExactlyInOrder(other1, 's1');
    assertExactlyInOrder(other2, 's2');
    // It may lose what was still queued when it left, but never gets a duplicate, a gap or a stranger's event.
    assert.ok(leaver.length <= PER_SESSION / 2, `leaver got ${leaver.length}`);
    leaver.forEach((event, i) => assert.deepEqual(event, { session: 'main', n: i }));
    assert.equal(bus.subscriberCount, 4);
  });

  it('stops delivering at once when a handler unsubscribes itself mid-batch', async () => {
    const bus = createEventBus<number>();
    const seen: number[] = [];
    const other: number[] = [];
    const sub = bus.subscribe((n) => {
      seen.push(n);
      if (n === 3) sub.unsubscribe();
    });
    bus.subscribe((n) => other.push(n));
    for (let n = 0; n < 10; n++) bus.publish(n);
    await settle();
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.deepEqual(other, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('never calls handlers inside publish', () => {
    const bus = createEventBus<number>();
    let calls = 0;
    bus.subscribe(() => calls++);
    bus.publish(1);
    assert.equal(calls, 0);
  });

  it('keeps publish order for everyone when a handler publishes', async () => {
    const bus = createEventBus<string>();
    const a: string[] = [];
    const b: string[] = [];
    bus.subscribe((e) => {
      a.push(e);
      if (e === 'first') bus.publish('reaction');
    });
    bus.subscribe((e) => b.push(e));
    bus.publish('first');
    bus.publish('second');
    await settle();
    assert.deepEqual(a, ['first', 'second', 'reaction']);
    assert.deepEqual(b, ['first', 'second', 'reaction']);
  });

  it('isolates a throwing subscriber from the others and from its own later events', async () => {
    const errors: unknown[] = [];
    const bus = createEventBus<number>({ onHandlerError: (e) => errors.push(e) });
    const good: number[] = [];
    const bad: number[] = [];
    bus.subscribe((n) => {
      bad.push(n);
      throw new Error(`boom ${n}`);
    });
    bus.subscribe((n) => good.push(n));
    bus.subscribe(() => Promise.reject(new Error('async boom')));
    for (let n = 0; n < 5; n++) bus.publish(n);
    await settle();
    assert.deepEqual(good, [0, 1, 2, 3, 4]);
    assert.deepEqual(bad, [0, 1, 2, 3, 4]);
    assert.equal(errors.length, 10);
  });

  it('ends an overflowing subscription, counts what it dropped and calls onOverflow once', async () => {
    const bus = createEventBus<number>();
    const slow: number[] = [];
    const fast: number[] = [];
    let overflows = 0;
    const sub = bus.subscribe((n) => slow.push(n), { maxQueue: 5, onOverflow: () => overflows++ });
    bus.subscribe((n) => fast.push(n), { maxQueue: 100 });
    for (let n = 0; n < 8; n++) bus.publish(n);
    await settle();
    assert.equal(overflows, 1);
    assert.deepEqual(slow, [], 'an overflowed subscriber gets nothing more');
    assert.equal(sub.dropped, 6, 'five queued plus the one that did not fit');
    assert.deepEqual(fast, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(bus.subscriberCount, 1);
    bus.publish(99);
    await settle();
    assert.equal(overflows, 1);
    assert.deepEqual(fast.at(-1), 99);
  });

  it('does not overflow a subscriber that keeps up across bursts', async () => {
    const bus = createEventBus<number>();
    let got = 0;
    let overflows = 0;
    bus.subscribe(() => got++, { maxQueue: 10, onOverflow: () => overflows++ });
    for (let burst = 0; burst < 100; burst++) {
      for (let n = 0; n < 10; n++) bus.publish(n);
      await settle();
    }
    assert.equal(overflows, 0);
    assert.equal(got, 1_000);
  });

  it('treats unsubscribe as idempotent and rejects a bad maxQueue', () => {
    const bus = createEventBus<number>();
    const sub = bus.subscribe(() => undefined);
    sub.unsubscribe();
    sub.unsubscribe();
    assert.equal(bus.subscriberCount, 0);
    assert.throws(() => bus.subscribe(() => undefined, { maxQueue: 0 }), /maxQueue/);
  });
});
