/**
 * The Origin and Host rules (docs/protocol.md §8.2): which browser Origins and
 * which Host names may reach a route that reads the secret. request-gate.ts
 * applies them to WebSocket upgrades and HTTP requests alike.
 *
 * Origins are compared as exact strings. Browsers always send the serialised
 * origin (lower-case scheme and host, no trailing dot, no default port), so a
 * case or trailing-dot variant never comes from a real page and is refused.
 */

import { isIP } from 'node:net';

export interface OriginHostRulesOptions {
  /** Extra allowed origins from config; `*` allows every origin except `null`. */
  allowedOrigins: readonly string[];
  /** Extra allowed Host names from config (no port), compared case-insensitively. */
  allowedHosts: readonly string[];
}

export type GateDecision = { ok: true } | { ok: false; status: 403 | 421; reason: string };

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** Normalise a configured origin (`https://My.Host/` → `https://my.host`); undefined when unparsable. */
export function normaliseConfiguredOrigin(origin: string): string | undefined {
  if (origin === '*') return '*';
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/** The gateway's own loopback origins for these ports (http and https). */
export function defaultOrigins(ports: Iterable<number>): string[] {
  const out: string[] = [];
  for (const port of ports) {
    for (const scheme of ['http', 'https']) {
      for (const host of LOOPBACK_HOSTS) out.push(`${scheme}://${host}:${port}`);
    }
  }
  return out;
}

/**
 * Builds the rules. `ports` are the ports the gateway answers on (the
 * configured one and the socket's local port), so port 0 works in tests.
 */
export function createOriginHostRules(options: OriginHostRulesOptions) {
  const configured = new Set<string>();
  let allowAll = false;
  for (const entry of options.allowedOrigins) {
    const normal = normaliseConfiguredOrigin(entry);
    if (normal === '*') allowAll = true;
    else if (normal !== undefined) configured.add(normal);
  }
  const hosts = new Set<string>([...LOOPBACK_HOSTS, ...options.allowedHosts.map((h) => h.toLowerCase())]);

  return {
    /** Decide on one request from its Origin and Host headers. */
    check(origin: string | undefined, host: string | undefined, ports: readonly number[]): GateDecision {
      if (!isHostAllowed(host, hosts)) return { ok: false, status: 421, reason: 'host not allowed' };
      if (origin === undefined) return { ok: true };
      if (origin === 'null' || origin === '') return { ok: false, status: 403, reason: 'origin not allowed' };
      if (allowAll || configured.has(origin)) return { ok: true };
      if (defaultOrigins(ports).includes(origin)) return { ok: true };
      return { ok: false, status: 403, reason: 'origin not allowed' };
    },
  };
}

export type OriginHostRules = ReturnType<typeof createOriginHostRules>;

/**
 * Host check against DNS rebinding: loopback names, configured names, and
 * any IP literal (a rebinding attack needs a DNS name, so an address in Host
 * is always the address the client dialled).
 */
function isHostAllowed(hostHeader: string | undefined, hosts: ReadonlySet<string>): boolean {
  if (hostHeader === undefined || hostHeader === '') return false;
  const name = stripPort(hostHeader.toLowerCase());
  if (name === undefined) return false;
  if (hosts.has(name)) return true;
  if (name.startsWith('[') && name.endsWith(']')) return isIP(name.slice(1, -1)) === 6;
  return isIP(name) === 4;
}

function stripPort(host: string): string | undefined {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return undefined;
    const rest = host.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  if (colon < 0) return host;
  if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return undefined;
  return host.slice(0, colon);
}
