/**
 * Client addresses as the security checks see them: one normal form per IP,
 * the client behind a trusted reverse proxy, and the failed-auth limiter key
 * (docs/protocol.md §8.4) shared by the WebSocket handshake and HTTP bearer auth
 * so both count against the same key.
 */

import { BlockList, isIP } from 'node:net';

/** The limiter key every loopback address shares: 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export const LOOPBACK_KEY = 'loopback';
/** Most X-Forwarded-For entries walked; a longer chain is cut to its right-most entries. */
const MAX_FORWARDED_HOPS = 32;

/**
 * One spelling per address: IPv4 dotted, IPv6 compressed lower-case, and an
 * IPv4-mapped IPv6 address as its IPv4 form. `unknown` for anything else.
 */
export function normaliseIp(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const trimmed = address.trim();
  const family = isIP(trimmed);
  if (family === 4) return trimmed;
  if (family !== 6) return 'unknown';
  let canonical: string;
  try {
    // WHATWG URL serialises IPv6 canonically (RFC 5952), e.g. 0:0:0:0:0:0:0:1 → ::1.
    canonical = new URL(`http://[${trimmed}]`).hostname.slice(1, -1);
  } catch {
    return 'unknown';
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped === null) return canonical;
  const high = Number.parseInt(mapped[1]!, 16);
  const low = Number.parseInt(mapped[2]!, 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** 127.0.0.0/8 or ::1 (after normaliseIp). */
export function isLoopbackIp(ip: string): boolean {
  return ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'));
}

/**
 * The limiter key: the client address (every loopback form one key), sub-keyed
 * by the request's Origin only when that Origin passed the gate. An Origin the
 * gate refused never gets this far, so a page cannot buy fresh guesses by
 * inventing Origins, and an allowed page locks out only itself, not the CLI.
 */
export function authLimiterKey(ip: string, allowedOrigin: string | undefined): string {
  const address = isLoopbackIp(ip) ? LOOPBACK_KEY : `ip:${ip}`;
  return allowedOrigin === undefined ? address : `${address}|origin:${allowedOrigin}`;
}

/** A set of proxy addresses and networks (`gateway.trustedProxies`). */
export interface TrustedProxies {
  has(ip: string): boolean;
  readonly size: number;
}

/**
 * Build the set from IPs and CIDR networks (`10.0.0.0/8`, `fd00::/8`).
 * Throws RangeError naming the bad entry (config validation catches these first).
 */
export function createTrustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseProxyEntry(entry);
    if (parsed === undefined) throw new RangeError(`not an IP address or CIDR network: ${entry}`);
    if (parsed.prefix === undefined) list.addAddress(parsed.ip, parsed.family);
    else list.addSubnet(parsed.ip, parsed.prefix, parsed.family);
  }
  return {
    has(ip) {
      const family = isIP(ip);
      if (entries.length === 0 || family === 0) return false;
      return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
    },
    size: entries.length,
  };
}

/** True when `entry` is an IP address or an IP/prefix network. */
export function isProxyEntry(entry: string): boolean {
  return parseProxyEntry(entry) !== undefined;
}

function parseProxyEntry(entry: string): { ip: string; family: 'ipv4' | 'ipv6'; prefix?: number } | undefined {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return undefined;
  const ip = normaliseIp(address);
  const version = isIP(ip);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { ip, family };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (version === 4 ? 32 : 128)) return undefined;
  return { ip, family, prefix };
}

/**
 * The client's address. The socket peer, unless the peer is a trusted proxy:
 * then X-Forwarded-For is walked from the right (each proxy appends the
 * address it saw) to the first entry that is not itself a trusted proxy.
 * Entries a client wrote to the left of that are never believed.
 */
export function resolveClientIp(
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): string {
  let ip = normaliseIp(remoteAddress);
  if (!trusted.has(ip) || forwardedFor === undefined) return ip;
  const text = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const hops = text.split(',').slice(-MAX_FORWARDED_HOPS);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normaliseIp(stripPort(hops[i]!.trim()));
    // A malformed entry ends the walk: the last believable address stands.
    if (hop === 'unknown') return ip;
    ip = hop;
    if (!trusted.has(ip)) return ip;
  }
  return ip;
}

/** `1.2.3.4:5678` and `[::1]:5678` as some proxies write them. */
function stripPort(entry: string): string {
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']');
    return end < 0 ? entry : entry.slice(1, end);
  }
  const colon = entry.indexOf(':');
  return colon >= 0 && entry.indexOf(':', colon + 1) < 0 ? entry.slice(0, colon) : entry;
}
