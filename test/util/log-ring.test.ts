import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LogRing } from '../../src/util/log-ring.js';
import { createLogger } from '../../src/util/logger.js';

describe('LogRing', () => {
  it('keeps at most its line count and byte budget, dropping the oldest', () => {
    const ring = new LogRing(3, 1_000);
    for (let i = 0; i < 10; i++) ring.push(`line ${i}`);
    const tail = ring.tail({ limit: 100, maxBytes: 10_000 });
    assert.deepEqual(tail.lines, ['line 7', 'line 8', 'line 9']);
    const small = new LogRing(100, 20);
    for (let i = 0; i < 10; i++) small.push(`0123456789-${i}`);
    assert.deepEqual(small.tail({ limit: 100, maxBytes: 10_000 }).lines, ['0123456789-9']);
  });

  it('follows a cursor: newer lines only, truncated when lines were dropped, reset when ahead', () => {
    const ring = new LogRing(4, 10_000);
    ring.push('a');
    const first = ring.tail({ limit: 10, maxBytes: 10_000 });
    assert.deepEqual([first.lines, first.cursor, first.truncated, first.reset], [['a'], 2, false, false]);
    ring.push('b');
    ring.push('c');
    assert.deepEqual(ring.tail({ cursor: first.cursor, limit: 10, maxBytes: 10_000 }).lines, ['b', 'c']);
    for (const line of ['d', 'e', 'f', 'g']) ring.push(line);
    const behind = ring.tail({ cursor: first.cursor, limit: 10, maxBytes: 10_000 });
    assert.deepEqual([behind.lines, behind.truncated], [['d', 'e', 'f', 'g'], true]);
    const ahead = ring.tail({ cursor: 10_000, limit: 10, maxBytes: 10_000 });
    assert.deepEqual([ahead.reset, ahead.lines], [true, ['d', 'e', 'f', 'g']]);
    const newest = ring.tail({ limit: 2, maxBytes: 10_000 });
    assert.deepEqual([newest.lines, newest.truncated], [['f', 'g'], true]);
    assert.deepEqual(ring.tail({ limit: 10, maxBytes: 4 }).lines, ['f', 'g']);
  });
});

describe('logger sinks and levels', () => {
  it('hands written records to a sink as JSON, also in pretty format, and changes level for children too', () => {
    const out: string[] = [];
    const sunk: string[] = [];
    const logger = createLogger({ level: 'info', format: 'pretty', write: (line) => out.push(line) });
    const child = logger.child({ component: 'x' });
    const remove = logger.addSink!((line) => sunk.push(line));
    child.debug('hidden');
    child.info('shown', { apiKey: 'sk-secret-value' });
    assert.equal(sunk.length, 1);
    assert.deepEqual({ ...JSON.parse(sunk[0]!), time: 0 }, { level: 'info', time: 0, msg: 'shown', component: 'x', apiKey: '[redacted]' });
    logger.setLevel!('debug');
    assert.equal(child.level, 'debug');
    child.debug('now shown');
    assert.equal(sunk.length, 2);
    remove();
    child.info('after removal');
    assert.equal(sunk.length, 2);
    assert.equal(out.length, 3);
  });
});
