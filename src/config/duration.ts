/**
 * Duration strings as OpenClaw writes them: `30m`, `1h`, `10s`, `1d`,
 * `250ms`, or a bare number (minutes, OpenClaw's default unit for
 * heartbeat.every). Used by config and by the scheduler's `every` input.
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i;

/** A human duration → ms, or undefined when it does not parse. A bare number is in `defaultUnit`. */
export function parseDurationMs(text: string, defaultUnit: 'ms' | 's' | 'm' | 'h' | 'd' = 'm'): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const value = Number(match[1]);
  const unit = (match[2] ?? defaultUnit).toLowerCase();
  const ms = Math.round(value * UNIT_MS[unit]);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** ms → the shortest exact duration string, e.g. 1800000 → `30m`. */
export function formatDurationMs(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
