import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DayRangeError, listDays, resolveDayRange } from '../../src/sessions/usage-range.js';

/** 2026-03-01T23:30:00Z */
const LATE_EVENING = Date.UTC(2026, 2, 1, 23, 30);

describe('resolveDayRange', () => {
  it('defaults to the last 30 UTC days ending today', () => {
    const range = resolveDayRange({}, LATE_EVENING);
    assert.equal(range.endDate, '2026-03-01');
    assert.equal(range.startDate, '2026-01-31');
    assert.equal(range.days, 30);
    assert.equal(listDays(range).length, 30);
  });

  it('puts a timestamp on the day of a fixed offset or an IANA zone', () => {
    assert.equal(resolveDayRange({ mode: 'specific', utcOffset: 'UTC+5:30' }, LATE_EVENING).dayOf(LATE_EVENING), '2026-03-02');
    assert.equal(resolveDayRange({ mode: 'specific', utcOffset: 'UTC-4' }, LATE_EVENING).dayOf(LATE_EVENING), '2026-03-01');
    assert.equal(resolveDayRange({ mode: 'specific', timeZone: 'Asia/Tokyo' }, LATE_EVENING).dayOf(LATE_EVENING), '2026-03-02');
    assert.equal(resolveDayRange({ mode: 'utc', utcOffset: 'UTC+9' }, LATE_EVENING).dayOf(LATE_EVENING), '2026-03-01');
  });

  it('keeps explicit dates and includes both ends', () => {
    const range = resolveDayRange({ startDate: '2026-02-27', endDate: '2026-03-01' }, LATE_EVENING);
    assert.deepEqual(listDays(range), ['2026-02-27', '2026-02-28', '2026-03-01']);
    assert.ok(range.includes('2026-02-27') && range.includes('2026-03-01') && !range.includes('2026-03-02'));
  });

  it('refuses impossible input, naming the field', () => {
    const field = (query: Parameters<typeof resolveDayRange>[0]): string => {
      try {
        resolveDayRange(query, LATE_EVENING);
      } catch (error) {
        assert.ok(error instanceof DayRangeError);
        return error.field;
      }
      return 'none';
    };
    assert.equal(field({ mode: 'specific', utcOffset: 'UTC+15' }), 'utcOffset');
    assert.equal(field({ mode: 'specific', timeZone: 'Mars/Olympus' }), 'timeZone');
    assert.equal(field({ startDate: '2026-02-30' }), 'startDate');
    assert.equal(field({ startDate: '2026-03-02', endDate: '2026-03-01' }), 'startDate');
    assert.equal(field({ days: 0 }), 'days');
  });
});
