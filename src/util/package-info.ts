/**
 * Pincer's own package: its root directory and version, from package.json.
 * The file sits two levels above src/ when run from source, three above
 * dist/src/ when compiled and one above dist/pincer.mjs when bundled, so walk
 * up from this module until it is found.
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'pincer';
const MAX_LEVELS_UP = 5;
const UNKNOWN_VERSION = '0.0.0';

let cached: { root: string; version: string } | null | undefined;

/** The package version ("0.1.0"), or "0.0.0" if package.json cannot be found. */
export function readPackageVersion(): string {
  return findPackage()?.version ?? UNKNOWN_VERSION;
}

/** The directory holding Pincer's package.json, or undefined if it cannot be found. */
export function packageRoot(): string | undefined {
  return findPackage()?.root;
}

function findPackage(): { root: string; version: string } | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < MAX_LEVELS_UP; level++) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (isPincerPackage(parsed)) {
        cached = { root: dir, version: parsed.version };
        break;
      }
    } catch {
      // Not here (or unreadable): keep walking up.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return cached ?? undefined;
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
