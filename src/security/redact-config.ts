/**
 * Makes a config object safe to show a client (config.get, docs/protocol.md §3.1):
 * secret-looking values become the OpenClaw sentinel, credentials inside URLs
 * (`http://user:pass@host`, `?api_key=…`) are replaced in place, and
 * filesystem locations are removed. Every value of an `env` or `headers` map
 * (MCP servers) is a secret whatever its name: only the names are shown.
 */

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

/** A deep copy of `value` with secrets replaced and path-valued keys dropped. */
export function redactConfig(value: unknown): unknown {
  return redact(value, 0);
}

function redact(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) return null;
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (PATH_KEY.test(key)) continue;
    if (SECRET_MAP_KEY.test(key) && typeof item === 'object' && item !== null && !Array.isArray(item)) {
      out[key] = Object.fromEntries(Object.keys(item).map((name) => [name, REDACTED_SENTINEL]));
      continue;
    }
    if (SECRET_KEY.test(key) && item !== null && item !== undefined && typeof item !== 'object' && typeof item !== 'boolean') {
      out[key] = REDACTED_SENTINEL;
      continue;
    }
    out[key] = redact(item, depth + 1);
  }
  return out;
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
