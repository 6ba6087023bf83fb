import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { createInboundQueue } from '../../src/bus/inbound-queue.js';

describe('createInboundQueue', () => {
  it('hands every request to the single consumer and resolves with its answer', async () => {
    const queue = createInboundQueue<number, number>();
    queue.consume(async (n) => n * 2);
    assert.deepEqual(await Promise.all([1, 2, 3].map((n) => queue.request(n))), [2, 4, 6]);
  });

  it('holds requests made before the consumer registers and delivers them in order', async () => {
    const queue = createInboundQueue<string, string>();
    const order: string[] = [];
    const pending = ['a', 'b', 'c'].map((m) => queue.request(m));
    queue.consume(async (m) => {
      order.push(m);
      return m.toUpperCase();
    });
    assert.deepEqual(await Promise.all(pending), ['A', 'B', 'C']);
    assert.deepEqual(order, ['a', 'b', 'c']);
  });

  it('refuses a second consumer', () => {
    const queue = createInboundQueue<number, number>();
    queue.consume(async (n) => n);
    assert.throws(() => queue.consume(async (n) => n), /already has a consumer/);
  });

  it('rejects the request when the consumer throws, synchronously or not', async () => {
    const queue = createInboundQueue<number, number>();
    queue.consume((n) => {
      if (n === 1) throw new Error('sync failure');
      return Promise.reject(new Error('async failure'));
    });
    await assert.rejects(queue.request(1), /sync failure/);
    await assert.rejects(queue.request(2), /async failure/);
  });

  it('bounds the requests waiting for a consumer', async () => {
    const queue = createInboundQueue<number, number>({ maxPending: 2 });
    const first = queue.request(1);
    const second = queue.request(2);
    await assert.rejects(queue.request(3), /inbound queue full/);
    queue.consume(async (n) => n);
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  });
});
