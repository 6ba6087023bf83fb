/**
 * JSON responses with the headers OpenClaw sends (docs/protocol.md §7), for normal
 * requests and for upgrade requests refused before any WebSocket handshake.
 */

import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** How long a refused upgrade socket may linger while its answer is flushed. */
const UPGRADE_REJECT_LINGER_MS = 1000;

/** Sent on every response; routes may add or override. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

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

/** `{"error":{"message","type"}}`, the shape of OpenClaw's 401 (docs/protocol.md §7.1). */
export function errorBody(message: string, type: string): { error: { message: string; type: string } } {
  return { error: { message, type } };
}

/**
 * Answer an upgrade request with a plain HTTP error and close the socket, so
 * no 101 is ever sent.
 */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (socket.destroyed) return;
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'connection: close',
    `content-type: ${JSON_CONTENT_TYPE}`,
    `content-length: ${Buffer.byteLength(text)}`,
    'cache-control: no-store',
    ...Object.entries({ ...SECURITY_HEADERS, ...headers }).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
  // A peer that never reads must not keep the socket open.
  setTimeout(() => socket.destroy(), UPGRADE_REJECT_LINGER_MS).unref();
}
