/** Turn request failures into the short sentences the page shows. */

import { RequestError } from './gateway-client.js';

/** A user-facing sentence for a failed request; the gateway's own message is kept verbatim. */
export function describeError(error: unknown): string {
  if (!(error instanceof RequestError)) return error instanceof Error ? error.message : String(error);
  const wait = error.retryAfterMs === undefined ? '' : ` Try again in ${Math.max(1, Math.ceil(error.retryAfterMs / 1000))} s.`;
  if (error.detailCode === 'AUTH_RATE_LIMITED') return `Too many failed sign-in attempts.${wait}`;
  if (/retry after/i.test(error.message)) return error.message;
  return `${error.message}${wait}`;
}
