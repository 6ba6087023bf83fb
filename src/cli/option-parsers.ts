/** Commander argument parsers shared by the commands. */

import { InvalidArgumentError } from 'commander';

const MAX_PORT = 65_535;

/** A TCP port: an integer from 0 to 65535 (0 picks a free port). */
export function parsePort(value: string): number {
  const trimmed = value.trim();
  const port = /^\d{1,5}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(port) || port > MAX_PORT) {
    throw new InvalidArgumentError('expected an integer from 0 to 65535.');
  }
  return port;
}

/** A string option value, or undefined when absent or not a string. */
export function stringOption(options: Record<string, unknown>, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

/** A number option value (already parsed), or undefined. */
export function numberOption(options: Record<string, unknown>, name: string): number | undefined {
  const value = options[name];
  return typeof value === 'number' ? value : undefined;
}
