/** Turning a bind address into one a local client can dial, and into URL form. */

/** A wildcard bind (0.0.0.0, ::) is reached through loopback; anything else as given. */
export function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

/** IPv6 literals get brackets for use in a URL authority. */
export function formatUrlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** http://<reachable host>:<port> */
export function httpUrlFor(host: string, port: number): string {
  return `http://${formatUrlHost(reachableHost(host))}:${port}`;
}
