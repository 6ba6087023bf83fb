/**
 * GET /health, /healthz, /ready, /readyz and /startupz (docs/protocol.md §7).
 * No auth: they reveal liveness, readiness and the version, nothing else.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, sendJson } from './http-response.js';
import type { Readiness } from './readiness.js';

const NO_STORE = { 'cache-control': 'no-store' };
const HEALTH_PATHS = new Set(['/health', '/healthz']);
const READY_PATHS = new Set(['/ready', '/readyz']);
const STARTUP_PATH = '/startupz';

/** Body of /health: 27 bytes, byte-for-byte OpenClaw's. */
const LIVE_BODY = { ok: true, status: 'live' } as const;

/** Answer a health-style path; false when `pathname` is not one of them. */
export function handleHealthRoute(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  readiness: Readiness,
  version: string,
): boolean {
  const isHealth = HEALTH_PATHS.has(pathname);
  const isReady = READY_PATHS.has(pathname);
  if (!isHealth && !isReady && pathname !== STARTUP_PATH) return false;

  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, errorBody('Method Not Allowed', 'method_not_allowed'), { allow: 'GET, HEAD', ...NO_STORE });
    return true;
  }
  if (isHealth) {
    sendJson(res, 200, LIVE_BODY, NO_STORE);
  } else if (isReady) {
    const failing = readiness.failing();
    const ready = failing.length === 0;
    sendJson(res, ready ? 200 : 503, { ready, failing, uptimeMs: readiness.uptimeMs() }, NO_STORE);
  } else {
    const started = readiness.started;
    sendJson(
      res,
      started ? 200 : 503,
      { ok: started, status: started ? 'started' : 'starting', version, uptimeMs: readiness.uptimeMs() },
      NO_STORE,
    );
  }
  return true;
}
