/**
 * Client addresses as the security checks see them: one normal form per IP
 * and one failed-auth limiter key (docs/protocol.md §8.4), shared by the
 * WebSocket handshake and HTTP bearer auth so both count against the same key.
 */

/** `::ffff:127.0.0.1` → `127.0.0.1`, so IPv4 clients of a dual-stack listener keep one identity. */
export function normaliseIp(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  return address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** 127.0.0.0/8 or ::1 (after normaliseIp). */
export function isLoopbackIp(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.');
}

/**
 * The limiter key: `ip:<ip>`, or `browser-origin:<origin>` for a loopback
 * client that carries a browser Origin, so a hostile local page is locked
 * out on its own without locking out the CLI on the same machine.
 */
export function authLimiterKey(ip: string, origin: string | undefined): string {
  return isLoopbackIp(ip) && origin !== undefined && origin !== '' ? `browser-origin:${origin}` : `ip:${ip}`;
}
