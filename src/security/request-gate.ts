/**
 * The one gate in front of every route that reads the gateway secret: the
 * OpenClaw WebSocket upgrade and the `/v1` HTTP API alike (docs/protocol.md §8.2).
 * It runs before any credential is read, so a request it refuses never
 * reaches the secret check or the failed-auth limiter.
 *
 * Order: two Host headers (400) → Host allow-list (421, DNS rebinding) →
 * Origin allow-list (403). A passing request gets its client address and
 * its limiter key (client-address.ts).
 */

import type { IncomingMessage } from 'node:http';
import { authLimiterKey, createTrustedProxies, resolveClientIp } from './client-address.js';
import { createOriginHostRules } from './origin-gate.js';

export interface RequestGateOptions {
  /** `gateway.allowedOrigins`; the loopback origins on the gateway's port are always allowed. */
  allowedOrigins: readonly string[];
  /** `gateway.allowedHosts`; loopback names and IP literals are always allowed. */
  allowedHosts: readonly string[];
  /** `gateway.trustedProxies`: peers (IPs or CIDR networks) whose X-Forwarded-For is believed. Default none. */
  trustedProxies?: readonly string[];
  /** Configured gateway port; 0 or absent means only the socket's local port. */
  port?: number;
}

export type RequestGateVerdict =
  | {
      ok: true;
      clientIp: string;
      /** The request's Origin, present only when it is an allowed one. */
      origin: string | undefined;
      /** Failed-auth limiter key for this client (§8.4). */
      limiterKey: string;
    }
  | { ok: false; status: 400 | 403 | 421; reason: string; clientIp: string };

export interface RequestGate {
  /** Judge one request (an upgrade or a plain HTTP request) from its headers and socket. Never throws. */
  check(req: IncomingMessage): RequestGateVerdict;
}

/** Build the gate. Throws RangeError for a malformed trusted proxy entry. */
export function createRequestGate(options: RequestGateOptions): RequestGate {
  const rules = createOriginHostRules(options);
  const trusted = createTrustedProxies(options.trustedProxies ?? []);
  const configuredPort = options.port ?? 0;
  const portsFor = (localPort: number | undefined): number[] =>
    [configuredPort, localPort ?? 0].filter((port) => port > 0);

  return {
    check(req) {
      const clientIp = resolveClientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted);
      // Node keeps only the first of two Host headers; a proxy may route on the other one.
      if (countHeader(req.rawHeaders, 'host') > 1) return { ok: false, status: 400, reason: 'duplicate Host header', clientIp };
      const origin = singleHeader(req.headers.origin);
      const decision = rules.check(origin, singleHeader(req.headers.host), portsFor(req.socket.localPort));
      if (!decision.ok) return { ...decision, clientIp };
      return { ok: true, clientIp, origin, limiterKey: authLimiterKey(clientIp, origin) };
    },
  };
}

/** What the gate's refusal says, the same on the WebSocket upgrade and on `/v1`: a message and a machine code. */
export function describeGateRefusal(status: 400 | 403 | 421): { message: string; code: string } {
  if (status === 400) return { message: 'Bad request: more than one Host header.', code: 'duplicate_host' };
  if (status === 421) {
    return { message: 'Misdirected request: this Host is not served here (add it to gateway.allowedHosts).', code: 'host_not_allowed' };
  }
  return { message: 'Forbidden: this Origin is not allowed (add it to gateway.allowedOrigins).', code: 'origin_not_allowed' };
}

function countHeader(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) count++;
  return count;
}

/** Node joins repeated headers; a repeated Origin is judged as that one odd value (and refused). */
function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
