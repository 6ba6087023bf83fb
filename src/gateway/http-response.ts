/**
 * JSON responses with the headers OpenClaw sends (docs/protocol.md §7). Upgrade
 * requests are refused through protocol/http-refusal.ts, shared with the
 * OpenClaw channel's upgrade gate.
 */

import type { ServerResponse } from 'node:http';
import { JSON_CONTENT_TYPE } from '../protocol/http-refusal.js';

export { errorBody, SECURITY_HEADERS } from '../protocol/http-refusal.js';

/** Write `body` as JSON with the common headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', JSON_CONTENT_TYPE);
  res.setHeader('content-length', Buffer.byteLength(text));
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
