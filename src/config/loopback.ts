/** Loopback host names and addresses, for the bind check and MCP server URLs. */

import { isIP } from 'node:net';

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost" names; false for wildcards and everything else. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || /^::ffff:127\./.test(name) || name === '0:0:0:0:0:0:0:1';
  return false;
}
