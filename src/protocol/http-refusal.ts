/**
 * The one way to refuse an HTTP upgrade: a plain JSON error answer and a
 * closed socket, so no 101 is ever sent. The gateway (WebSocket off,
 * starting, draining) and the OpenClaw channel's upgrade gate (Host, Origin,
 * pending sockets) both answer through here, with the headers OpenClaw
 * sends (docs/protocol.md §7) and the one drain hint of the error table.
 */

import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { DRAIN_RETRY_AFTER_MS } from './errors.js';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** How long a refused upgrade socket may linger while its answer is flushed. */
const UPGRADE_REJECT_LINGER_MS = 1000;

/** Sent on every response; routes may add or override. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

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
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'connection: close',
    `content-type: ${JSON_CONTENT_TYPE}`,
    `content-length: ${Buffer.byteLength(text)}`,
    'cache-control: no-store',
    ...Object.entries({ ...SECURITY_HEADERS, ...headers }).map(([name, value]) => `${name}: ${value}`),
  ];
  // Free the socket as soon as the answer is handed to the kernel, so a flood of refusals holds nothing;
  // a peer that never reads must not keep it open either.
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
  setTimeout(() => socket.destroy(), UPGRADE_REJECT_LINGER_MS).unref();
}

/** The refusal while the gateway starts or drains: 503 with the table's one retry hint (`Retry-After: 2`). */
export function rejectUpgradeUnavailable(socket: Duplex, reason: 'startup' | 'shutdown'): void {
  const message = reason === 'startup' ? 'gateway starting' : 'gateway shutting down';
  rejectUpgrade(socket, 503, errorBody(message, 'unavailable'), { 'retry-after': String(DRAIN_RETRY_AFTER_MS / 1000) });
}
