/**
 * CORS for `/v1`, only ever for an Origin the request gate allowed
 * (security/request-gate.ts): any other Origin was refused before this runs,
 * so a foreign page gets no CORS header and its browser reads nothing.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_METHODS = ['GET', 'POST'];
/**
 * Request headers a browser may send: what the official OpenAI SDKs send
 * (`x-stainless-*`, `openai-*`, `idempotency-key`) plus the session-key headers.
 */
const ALLOWED_REQUEST_HEADER =
  /^(authorization|content-type|accept|idempotency-key|openai-[a-z0-9-]+|x-stainless-[a-z0-9-]+|x-pincer-session-key|x-openclaw-session-key)$/;
/** How long a browser may cache a preflight answer, s. */
const PREFLIGHT_MAX_AGE_S = 600;

/** Mark the response readable by `origin` (an allowed one), or just vary on Origin. */
export function applyCorsHeaders(res: ServerResponse, origin: string | undefined): void {
  res.setHeader('vary', 'Origin');
  if (origin === undefined) return;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-expose-headers', 'retry-after');
}

/** True for a CORS preflight: OPTIONS with an Origin and Access-Control-Request-Method. */
export function isPreflight(req: IncomingMessage, origin: string | undefined): boolean {
  return req.method === 'OPTIONS' && origin !== undefined && typeof req.headers['access-control-request-method'] === 'string';
}

/** Answer a preflight from an allowed origin: 204 listing the methods and the requested headers that are allowed. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  const requested = String(req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => ALLOWED_REQUEST_HEADER.test(name));
  res.writeHead(204, {
    'access-control-allow-methods': ALLOWED_METHODS.join(', '),
    ...(requested.length > 0 ? { 'access-control-allow-headers': requested.join(', ') } : {}),
    'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
    'content-length': '0',
  });
  res.end();
}
