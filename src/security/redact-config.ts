/**
 * Makes a config object safe to show a client (config.get, docs/protocol.md §3.1):
 * secret-looking values become the OpenClaw sentinel, credentials inside URLs
 * (`http://user:pass@host`, `?api_key=…`) are replaced in place, and
 * filesystem locations are removed. Every value of an `env` or `headers` map
 * (MCP servers) is a secret whatever its name: only the names are shown.
 */

import { isDeepStrictEqual } from 'node:util';

/** What OpenClaw puts in place of a secret (observed A-7). */
export const REDACTED_SENTINEL = '__OPENCLAW_REDACTED__';

const SECRET_KEY =
  /(token|password|passwd|passphrase|secret|api[-_]?key|authorization|cookie|credentials?|private[-_]?key|access[-_]?key(id)?|signing[-_]?key|encryption[-_]?key|webhook([-_]?url)?|dsn|connection[-_]?string|bearer)$/i;
/** Query parameters that carry a credential in a URL. */
const SECRET_QUERY_PARAM = /^(token|access[-_]?token|api[-_]?key|key|secret|password|passwd|auth|sig|signature|code)$/i;
const PATH_KEY = /(dir|path|paths|file)$/i;
/** Maps whose values are all treated as secrets. */
const SECRET_MAP_KEY = /^(env|headers)$/;
const MAX_DEPTH = 16;

/** What happens to path-valued keys: dropped (a view), or masked like secrets (a file an editor may send back). */
export type PathRedaction = 'drop' | 'mask';

/** A deep copy of `value` with secrets replaced and path-valued keys dropped (or masked). */
export function redactConfig(value: unknown, paths: PathRedaction = 'drop'): unknown {
  return redact(value, 0, paths);
}

function redact(value: unknown, depth: number, paths: PathRedaction): unknown {
  if (depth > MAX_DEPTH) return null;
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, paths));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (PATH_KEY.test(key)) {
      if (paths === 'mask') out[key] = redactLeaf(item, depth, paths);
      continue;
    }
    if (SECRET_MAP_KEY.test(key) && typeof item === 'object' && item !== null && !Array.isArray(item)) {
      out[key] = Object.fromEntries(Object.keys(item).map((name) => [name, REDACTED_SENTINEL]));
      continue;
    }
    if (SECRET_KEY.test(key) && item !== null && item !== undefined && typeof item !== 'object' && typeof item !== 'boolean') {
      out[key] = REDACTED_SENTINEL;
      continue;
    }
    out[key] = redact(item, depth + 1, paths);
  }
  return out;
}

/** A masked path value: strings become the sentinel, anything else is redacted as usual. */
function redactLeaf(value: unknown, depth: number, paths: PathRedaction): unknown {
  return typeof value === 'string' ? REDACTED_SENTINEL : redact(value, depth + 1, paths);
}

/** A value sent back still holds the sentinel where no stored value can take its place. */
export class RedactedValueError extends Error {
  /** Dotted path of the value, e.g. `provider.fallbacks.1.apiKey`. */
  readonly field: string;
  constructor(field: string) {
    super(`${field} holds the redaction placeholder ${REDACTED_SENTINEL} but no stored value matches it; send the real value`);
    this.name = 'RedactedValueError';
    this.field = field;
  }
}

/**
 * Undo the redaction of a config a client read and sends back: wherever
 * `candidate` holds the sentinel (or a URL redacted by redactUrlCredentials),
 * the value stored at the same place in `current` is kept, so an editor
 * round-trip never overwrites a real secret with the placeholder. An array
 * entry that holds the sentinel keeps its stored secrets only when the
 * client left the entry unchanged, so reordering a list cannot move a key to
 * another endpoint. Throws RedactedValueError when nothing matches.
 */
export function restoreRedacted(candidate: unknown, current: unknown, path = ''): unknown {
  if (typeof candidate === 'string') {
    if (!candidate.includes(REDACTED_SENTINEL)) return candidate;
    if (typeof current === 'string' && current !== '' && (candidate === REDACTED_SENTINEL || redactUrlCredentials(current) === candidate)) return current;
    throw new RedactedValueError(path || '(root)');
  }
  if (Array.isArray(candidate)) {
    const stored = Array.isArray(current) ? current : [];
    return candidate.map((item, index) => {
      const at = join(path, String(index));
      if (!holdsSentinel(item)) return item;
      if (typeof item === 'string') return restoreRedacted(item, stored[index], at);
      const same = stored.find((entry) => isDeepStrictEqual(redactConfig(entry, 'mask'), item));
      if (same === undefined) throw new RedactedValueError(firstSentinelPath(item, at));
      return structuredClone(same);
    });
  }
  if (typeof candidate !== 'object' || candidate === null) return candidate;
  const stored = typeof current === 'object' && current !== null && !Array.isArray(current) ? (current as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(candidate)) out[key] = restoreRedacted(item, stored[key], join(path, key));
  return out;
}

function holdsSentinel(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(REDACTED_SENTINEL);
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).some(holdsSentinel);
}

function firstSentinelPath(value: unknown, path: string): string {
  if (typeof value !== 'object' || value === null) return path;
  for (const [key, item] of Object.entries(value)) if (holdsSentinel(item)) return firstSentinelPath(item, join(path, key));
  return path;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** `scheme://user:pass@host/…?token=x` → user info and secret parameters replaced; other strings unchanged. */
export function redactUrlCredentials(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.username !== '' || url.password !== '') {
    url.username = REDACTED_SENTINEL;
    if (url.password !== '') url.password = REDACTED_SENTINEL;
    changed = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_QUERY_PARAM.test(name)) {
      url.searchParams.set(name, REDACTED_SENTINEL);
      changed = true;
    }
  }
  return changed ? url.toString() : text;
}
