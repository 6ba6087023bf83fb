/**
 * What both static surfaces of the web channel (the web chat and a served
 * Control UI build) send alike: the security headers every response carries,
 * the page headers, plain-text errors and conditional-request checks.
 */

import type { ServerResponse } from 'node:http';

/** A Host header safe to echo into the CSP: a DNS name or bracketed IPv6, optional port. */
const SAFE_HOST = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** Headers on every response: no MIME sniffing, no referrer. */
export function baseHeaders(): Record<string, string> {
  return { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
}

/** ` ws://host wss://host` for the page's own Host header when it is safe to echo, else ''. */
export function socketSources(host: string | undefined): string {
  return host !== undefined && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
}

/** Headers for an HTML page: the given CSP, no framing, its own browsing context group, no devices. */
export function pageHeaders(csp: readonly string[]): Record<string, string> {
  return {
    'content-security-policy': csp.join('; '),
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}

/** A short plain-text answer (errors, redirects); destroys the socket when headers already went out. */
export function sendText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(`${text}\n`);
  res.writeHead(status, {
    ...baseHeaders(),
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

/** If-None-Match against one entity tag (`*`, strong or weak form). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = etag.startsWith('W/') ? etag.slice(2) : etag;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === bare || t === `W/${bare}`;
  });
}

/** True when Accept-Encoding allows `coding` (or `*`) with a non-zero q. */
export function acceptsEncoding(header: string | undefined, coding: string): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== coding && name !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
