/**
 * The OpenClaw channel's upgrade gate: everything decided before the 101.
 * In order: the channel's own stop (the gateway itself refuses upgrades
 * while it starts or drains, before they reach here), the Host/Origin gate shared
 * with `/v1` (before any credential is read, docs/protocol.md §8.2), the caps
 * on unauthenticated sockets per IP and in all (§8.1), then the credential
 * the upgrade carries (Authorization or subprotocol). Every refusal answers
 * through the gateway's one reject helper (protocol/http-refusal.ts).
 */

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, rejectUpgrade, rejectUpgradeUnavailable } from '../../protocol/http-refusal.js';
import { describeGateRefusal, type RequestGate } from '../../security/request-gate.js';
import { readUpgradeCredential } from '../../security/upgrade-credential.js';
import type { SampledLog } from './channel-logger.js';

export const MAX_PENDING_PER_IP = 16;
/** Unauthenticated sockets from all clients together: many loopback or proxied addresses cannot add up past this. */
export const MAX_PENDING_TOTAL = 256;

/** What an admitted upgrade tells the connection it becomes. */
export interface AdmittedUpgrade {
  ip: string;
  /** The request's Origin, present only when it is an allowed one. */
  origin: string | undefined;
  /** The secret the upgrade carried (Authorization or subprotocol), for `connect` to compare. */
  upgradeCredential: string | undefined;
}

export interface UpgradeGateOptions {
  gate: RequestGate;
  /** True once the channel shut down: refuse as the gateway does while draining (503, Retry-After). */
  isStopped(): boolean;
  /** Unauthenticated sockets per IP (default 16). */
  maxPendingPerIp?: number;
  /** Unauthenticated sockets in all (default 256). */
  maxPendingTotal?: number;
  rejections: SampledLog;
}

export interface UpgradeGate {
  /** Judge an upgrade: its admission, or undefined after answering the refusal on the socket. */
  admit(req: IncomingMessage, socket: Duplex): AdmittedUpgrade | undefined;
  /** A socket from `ip` was upgraded and awaits `connect`. */
  addPending(ip: string): void;
  /** That socket connected or closed. */
  releasePending(ip: string): void;
  /** Sockets awaiting `connect`, and the IPs they come from. */
  pending(): { sockets: number; ips: number };
}

/** Build the gate with its pending-socket counts. */
export function createUpgradeGate(options: UpgradeGateOptions): UpgradeGate {
  const { gate, rejections } = options;
  const maxPendingPerIp = options.maxPendingPerIp ?? MAX_PENDING_PER_IP;
  const maxPendingTotal = options.maxPendingTotal ?? MAX_PENDING_TOTAL;
  const pendingByIp = new Map<string, number>();
  let pendingTotal = 0;

  const tooManyPending = (socket: Duplex): undefined => {
    rejectUpgrade(socket, 503, errorBody('too many pending connections', 'unavailable'));
    return undefined;
  };

  return {
    admit(req, socket) {
      if (options.isStopped()) {
        rejectUpgradeUnavailable(socket, 'shutdown');
        return undefined;
      }
      const verdict = gate.check(req);
      if (!verdict.ok) {
        rejections.warn('upgrade refused', { status: verdict.status, reason: verdict.reason, ip: verdict.clientIp });
        const refusal = describeGateRefusal(verdict.status);
        rejectUpgrade(socket, verdict.status, errorBody(refusal.message, refusal.code));
        return undefined;
      }
      const { clientIp: ip, origin } = verdict;
      if ((pendingByIp.get(ip) ?? 0) >= maxPendingPerIp) {
        rejections.warn('too many pending connections', { ip });
        return tooManyPending(socket);
      }
      if (pendingTotal >= maxPendingTotal) {
        rejections.warn('too many pending connections in all', { pending: pendingTotal });
        return tooManyPending(socket);
      }
      const offered = parseProtocolHeader(req.headers['sec-websocket-protocol']);
      const upgradeCredential = readUpgradeCredential(singleHeader(req.headers.authorization), offered);
      return { ip, origin, upgradeCredential };
    },
    addPending(ip) {
      pendingByIp.set(ip, (pendingByIp.get(ip) ?? 0) + 1);
      pendingTotal++;
    },
    releasePending(ip) {
      pendingTotal--;
      const count = (pendingByIp.get(ip) ?? 0) - 1;
      if (count > 0) pendingByIp.set(ip, count);
      else pendingByIp.delete(ip);
    },
    pending() {
      return { sockets: pendingTotal, ips: pendingByIp.size };
    },
  };
}

/** Node joins repeated headers; a repeated Authorization is treated as a single odd value. */
function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function parseProtocolHeader(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  const text = singleHeader(value);
  if (text === undefined) return out;
  for (const entry of text.split(',')) {
    const trimmed = entry.trim();
    if (trimmed !== '') out.add(trimmed);
  }
  return out;
}
