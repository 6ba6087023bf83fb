/**
 * `gateway.controlUi`: a Control UI build (for example the one in an installed
 * `openclaw` package) that the gateway serves under a base path on its own
 * port. OpenClaw's key names; off unless `root` is set.
 */

import { statSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { ConfigError, describeSource, type ConfigSource } from './config-error.js';

/** Where the Control UI is served when `basePath` is not set. Pincer's own web chat keeps `/`. */
export const DEFAULT_CONTROL_UI_BASE_PATH = '/openclaw';

/** First path segments the gateway already answers; a base path may not take them. */
const RESERVED_SEGMENTS = new Set(['assets', 'index.html', 'health', 'healthz', 'ready', 'readyz', 'v1']);
const MAX_BASE_PATH_CHARS = 256;
/** Unreserved URL characters only, so the path needs no decoding and cannot smuggle `%2e%2e`. */
const BASE_PATH = /^(?:\/[A-Za-z0-9._~-]+)+\/?$/;

export const controlUiSchema = v.pipe(
  v.custom<unknown>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'expected an object'),
  v.strictObject(
    {
      root: v.optional(
        v.pipe(
          v.string('expected a directory path'),
          v.check((value) => value.trim().length > 0, 'must not be empty (expected a directory path)'),
        ),
      ),
      basePath: v.optional(
        v.pipe(
          v.string('expected a URL path such as /openclaw'),
          v.maxLength(MAX_BASE_PATH_CHARS, `expected at most ${MAX_BASE_PATH_CHARS} characters`),
          v.regex(BASE_PATH, 'expected a URL path such as /openclaw: segments of letters, digits, ".", "_", "~" or "-"'),
          v.check((value) => !value.split('/').some((segment) => segment === '.' || segment === '..'), 'must not contain . or .. segments'),
          v.check(
            (value) => !RESERVED_SEGMENTS.has(value.split('/')[1] ?? ''),
            `must not start with a path the gateway already serves (${[...RESERVED_SEGMENTS].join(', ')})`,
          ),
        ),
      ),
    },
    'expected an object',
  ),
);

export type ControlUiFileConfig = v.InferOutput<typeof controlUiSchema>;

export interface ControlUiConfig {
  /** Absolute directory holding the build's index.html; undefined when the Control UI is not served. */
  readonly root: string | undefined;
  /** Normalised: leading slash, no trailing slash (default /openclaw). */
  readonly basePath: string;
}

/**
 * Merge the layers (later wins per key), resolve `root` and check that it
 * holds a build. Throws ConfigError naming the field.
 */
export function resolveControlUi(
  layers: readonly (ControlUiFileConfig | undefined)[],
  sourceOf: (field: 'root' | 'basePath') => ConfigSource,
  resolveRoot: (path: string, source: ConfigSource) => string,
): ControlUiConfig {
  let root: string | undefined;
  let basePath = DEFAULT_CONTROL_UI_BASE_PATH;
  for (const layer of layers) {
    if (layer?.root !== undefined) root = layer.root;
    if (layer?.basePath !== undefined) basePath = layer.basePath.replace(/\/+$/, '');
  }
  if (root === undefined) return { root: undefined, basePath };
  const source = sourceOf('root');
  const resolved = resolveRoot(root, source);
  const problem = describeMissingBuild(resolved);
  if (problem !== undefined) {
    throw new ConfigError(`invalid gateway.controlUi.root ${describeSource(source)}: ${resolved} ${problem}`, {
      field: 'gateway.controlUi.root',
      source,
    });
  }
  return { root: resolved, basePath };
}

function describeMissingBuild(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return 'is not a directory';
  } catch {
    return 'does not exist';
  }
  try {
    if (!statSync(join(dir, 'index.html')).isFile()) return 'holds no index.html file (expected a Control UI build)';
  } catch {
    return 'holds no index.html (expected a Control UI build, such as node_modules/openclaw/dist/control-ui)';
  }
  return undefined;
}
