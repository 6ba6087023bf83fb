/**
 * An HTTP route whose module is imported on the first request it claims,
 * so start-up does not pay for channels that a gateway may never serve.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

/** An HTTP route: true when it handled the request, false to let the next one try. */
type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/**
 * Wrap `load` (which builds the real route, typically via a dynamic import)
 * behind `claims`, a cheap test of the request URL. The real route still
 * makes the final decision. A failed load is not cached: the next request
 * tries again, and this one fails like any throwing route (500, logged).
 */
export function createLazyRoute(claims: (url: string) => boolean, load: () => Promise<HttpRoute>): HttpRoute {
  let loading: Promise<HttpRoute> | undefined;
  return async (req, res) => {
    if (!claims(req.url ?? '/')) return false;
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    const route = await loading;
    return route(req, res);
  };
}
