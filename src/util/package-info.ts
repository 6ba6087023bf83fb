/**
 * Pincer's own name and version, read from package.json. The file sits two
 * levels above src/ when run from source and three above dist/src/ when built,
 * so walk up from this module until it is found.
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'pincer';
const MAX_LEVELS_UP = 5;
const UNKNOWN_VERSION = '0.0.0';

let cachedVersion: string | undefined;

/** The package version ("0.1.0"), or "0.0.0" if package.json cannot be found. */
export function readPackageVersion(): string {
  cachedVersion ??= findVersion();
  return cachedVersion;
}

function findVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < MAX_LEVELS_UP; level++) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (isPincerPackage(parsed)) return parsed.version;
    } catch {
      // Not here (or unreadable): keep walking up.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return UNKNOWN_VERSION;
}

function isPincerPackage(value: unknown): value is { name: string; version: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'name' in value &&
    value.name === PACKAGE_NAME &&
    'version' in value &&
    typeof value.version === 'string'
  );
}
