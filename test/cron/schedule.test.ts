import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCronEngine, nextRunAfter } from '../../src/cron/schedule.js';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('nextRunAfter', () => {
  it('every: counts periods from the anchor and always lands strictly after now', async () => {
    const anchor = Date.parse('2026-01-01T00:00:00Z');
    const every = { kind: 'every' as const, everyMs: 5_000, anchorMs: anchor };
    assert.equal(nextRunAfter(every, anchor - 1, undefined, 0), anchor);
    assert.equal(nextRunAfter(every, anchor, undefined, 0), anchor + 5_000);
    assert.equal(nextRunAfter(every, anchor + 12_345, undefined, 0), anchor + 15_000);
    // No anchor: the job's creation time.
    assert.equal(nextRunAfter({ kind: 'every', everyMs: 3_000 }, anchor + 1, undefined, anchor), anchor + 3_000);
  });

  it('at: the instant while it is ahead, then nothing', () => {
    const at = { kind: 'at' as const, at: '2026-05-01T10:00:00.000Z' };
    assert.equal(iso(nextRunAfter(at, Date.parse('2026-05-01T09:00:00Z'), undefined, 0)), '2026-05-01T10:00:00.000Z');
    assert.equal(nextRunAfter(at, Date.parse('2026-05-01T10:00:00Z'), undefined, 0), undefined);
  });

  it('cron: five fields in a time zone, and six fields with seconds', async () => {
    const cron = await loadCronEngine();
    const from = Date.parse('2026-06-10T12:00:00Z');
    // 09:00 in Vienna in summer is 07:00 UTC; the next one is the following morning.
    assert.equal(iso(nextRunAfter({ kind: 'cron', expr: '0 9 * * *', tz: 'Europe/Vienna' }, from, cron, 0)), '2026-06-11T07:00:00.000Z');
    assert.equal(iso(nextRunAfter({ kind: 'cron', expr: '0 9 * * *', tz: 'America/New_York' }, from, cron, 0)), '2026-06-10T13:00:00.000Z');
    assert.equal(iso(nextRunAfter({ kind: 'cron', expr: '*/10 * * * * *', tz: 'UTC' }, from + 3_000, cron, 0)), '2026-06-10T12:00:10.000Z');
  });

  it('cron: follows daylight saving time in both directions', async () => {
    const cron = await loadCronEngine();
    const daily = { kind: 'cron' as const, expr: '0 9 * * *', tz: 'Europe/Vienna' };
    // Vienna moves to summer time on 2026-03-29: 09:00 is 08:00 UTC before and 07:00 UTC after.
    assert.equal(iso(nextRunAfter(daily, Date.parse('2026-03-28T00:00:00Z'), cron, 0)), '2026-03-28T08:00:00.000Z');
    assert.equal(iso(nextRunAfter(daily, Date.parse('2026-03-28T09:00:00Z'), cron, 0)), '2026-03-29T07:00:00.000Z');
    // …and back on 2026-10-25.
    assert.equal(iso(nextRunAfter(daily, Date.parse('2026-10-25T00:00:00Z'), cron, 0)), '2026-10-25T08:00:00.000Z');
    // 02:30 does not exist on the spring-forward night: it runs once, at the first valid time after the gap.
    const gap = { kind: 'cron' as const, expr: '30 2 * * *', tz: 'Europe/Vienna' };
    assert.equal(iso(nextRunAfter(gap, Date.parse('2026-03-28T12:00:00Z'), cron, 0)), '2026-03-29T01:00:00.000Z');
    assert.equal(iso(nextRunAfter(gap, Date.parse('2026-03-29T01:00:00Z'), cron, 0)), '2026-03-30T00:30:00.000Z');
    // 02:30 happens twice on the fall-back night: a fixed-time job runs once.
    const first = nextRunAfter(gap, Date.parse('2026-10-24T12:00:00Z'), cron, 0) as number;
    const second = nextRunAfter(gap, first, cron, 0) as number;
    assert.equal(iso(first), '2026-10-25T00:30:00.000Z');
    assert.equal(iso(second), '2026-10-26T01:30:00.000Z');
  });

  it('cron: a bad expression or zone throws', async () => {
    const cron = await loadCronEngine();
    assert.throws(() => nextRunAfter({ kind: 'cron', expr: '61 * * * *' }, 0, cron, 0));
    assert.throws(() => nextRunAfter({ kind: 'cron', expr: '0 9 * * *', tz: 'Mars/Olympus' }, 0, cron, 0));
  });
});
