/** Which request URLs belong to the OpenAI-compatible API (kept apart so main.ts can route before loading it). */

/** The request path without the query string and without one trailing slash. */
export function requestPath(url: string | undefined): string {
  const raw = (url ?? '/').split('?', 1)[0];
  return raw.length > 1 && raw.endsWith('/') ? raw.slice(0, -1) : raw;
}

/** True for `/v1` and everything under it. */
export function isOpenAiHttpPath(url: string | undefined): boolean {
  const path = requestPath(url);
  return path === '/v1' || path.startsWith('/v1/');
}
