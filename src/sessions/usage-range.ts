/**
 * The calendar days a usage report covers, and the day each timestamp falls
 * on: UTC by default, a fixed `UTC+5:30` offset, an IANA time zone, or the
 * gateway's own zone, as OpenClaw's usage methods take them.
 */

/** Days a report covers when the client names no range (OpenClaw's Usage page default). */
export const DEFAULT_REPORT_DAYS = 30;
/** Longest range a report may cover, days. */
export const MAX_REPORT_DAYS = 3_660;

const DAY_MS = 24 * 60 * 60 * 1000;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const OFFSET_PATTERN = /^UTC([+-])(\d{1,2})(?::([0-5]\d))?$/;

export interface DayRangeQuery {
  startDate?: string;
  endDate?: string;
  /** Days back from today, when no dates are given. */
  days?: number;
  mode?: 'utc' | 'gateway' | 'specific';
  utcOffset?: string;
  timeZone?: string;
}

/** A closed range of `YYYY-MM-DD` days, and how timestamps map onto them. */
export interface DayRange {
  startDate: string;
  endDate: string;
  /** Number of days, both ends included. */
  days: number;
  /** The day `epochMs` falls on, in the range's zone. */
  dayOf(epochMs: number): string;
  includes(day: string): boolean;
}

/** Thrown for a query that names an impossible date, offset or zone; `field` names the parameter. */
export class DayRangeError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'DayRangeError';
    this.field = field;
  }
}

/** Resolve a query to a range; `now` picks today in the query's zone. Throws DayRangeError. */
export function resolveDayRange(query: DayRangeQuery, now: number): DayRange {
  const dayOf = dayFunction(query);
  const today = dayOf(now);
  const endDate = query.endDate ?? today;
  checkDate('endDate', endDate);
  let startDate = query.startDate;
  if (startDate === undefined) {
    const days = query.days ?? DEFAULT_REPORT_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > MAX_REPORT_DAYS) {
      throw new DayRangeError('days', `days must be an integer from 1 to ${MAX_REPORT_DAYS}`);
    }
    startDate = shiftDay(endDate, -(days - 1));
  }
  checkDate('startDate', startDate);
  if (startDate > endDate) throw new DayRangeError('startDate', `startDate ${startDate} is after endDate ${endDate}`);
  const days = Math.round((Date.parse(`${endDate}T00:00:00Z`) - Date.parse(`${startDate}T00:00:00Z`)) / DAY_MS) + 1;
  if (days > MAX_REPORT_DAYS) throw new DayRangeError('startDate', `the range covers ${days} days (at most ${MAX_REPORT_DAYS})`);
  return { startDate, endDate, days, dayOf, includes: (day) => day >= (startDate as string) && day <= endDate };
}

/** Every day of the range, oldest first. */
export function listDays(range: DayRange): string[] {
  const out: string[] = [];
  for (let i = 0; i < range.days; i++) out.push(shiftDay(range.startDate, i));
  return out;
}

function dayFunction(query: DayRangeQuery): (epochMs: number) => string {
  if (query.timeZone !== undefined && query.mode !== 'utc') return zoneDay(query.timeZone);
  if (query.mode === 'gateway') return zoneDay(undefined);
  if (query.utcOffset !== undefined && query.utcOffset.trim() !== '' && query.mode !== 'utc') {
    const offsetMs = parseOffset(query.utcOffset);
    return (epochMs) => new Date(epochMs + offsetMs).toISOString().slice(0, 10);
  }
  return (epochMs) => new Date(epochMs).toISOString().slice(0, 10);
}

function zoneDay(timeZone: string | undefined): (epochMs: number) => string {
  let format: Intl.DateTimeFormat;
  try {
    // en-CA writes dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  } catch {
    throw new DayRangeError('timeZone', `unknown time zone: ${String(timeZone)}`);
  }
  return (epochMs) => format.format(new Date(epochMs));
}

function parseOffset(raw: string): number {
  const match = OFFSET_PATTERN.exec(raw.trim());
  const hours = match === null ? NaN : Number(match[2]);
  const minutes = match === null ? NaN : Number(match[3] ?? '0');
  const sign = match?.[1] === '-' ? -1 : 1;
  const total = sign * (hours * 60 + minutes);
  if (match === null || total < -12 * 60 || total > 14 * 60) {
    throw new DayRangeError('utcOffset', `utcOffset must look like UTC+5:30 and lie between UTC-12:00 and UTC+14:00, got ${JSON.stringify(raw)}`);
  }
  return total * 60_000;
}

function checkDate(field: string, value: string): void {
  const match = DATE_PATTERN.exec(value);
  const parsed = Date.parse(`${value}T00:00:00Z`);
  if (match === null || !Number.isFinite(parsed) || new Date(parsed).toISOString().slice(0, 10) !== value) {
    throw new DayRangeError(field, `${field} must be a date as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
}

function shiftDay(day: string, by: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + by * DAY_MS).toISOString().slice(0, 10);
}
