/**
 * The `fetch` the provider SDKs are given: the same contract on node:http and
 * node:https. Node's global fetch (undici) costs a gateway about 20 MiB more
 * resident memory after a few hundred model calls than the same calls made
 * through node:http, which Pincer already loads. Only what the SDKs send is
 * handled here: a string or byte body, or none; anything else (a stream, a
 * form) and a Request object go to the global fetch. The answer is a
 * fetch-classes.ts Response, so a model call never loads Node's fetch stack.
 */

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { PassThrough, Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { FetchHeaders, FetchResponse, isNodeFetchInstance, type HeadersSource } from './fetch-classes.js';

/** Redirects followed before giving up, as fetch does (it allows 20; an API needs few). */
const MAX_REDIRECTS = 5;
/** Statuses whose response has no body (fetch's Response refuses one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

// Kept-alive sockets are unref'd by the agent while free, so they never hold the process open.
const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

type FetchInput = Parameters<typeof fetch>[0];

export async function nodeHttpFetch(input: FetchInput, init: RequestInit = {}): Promise<Response> {
  return (await fetchOverNodeHttp(input, init)) as unknown as Response;
}

async function fetchOverNodeHttp(input: FetchInput, init: RequestInit): Promise<FetchResponse | Response> {
  const body = init.body;
  const simpleBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
  if (isNodeFetchInstance(input, 'Request') || !simpleBody) return fetch(input, init);
  let url = new URL(String(input));
  let method = (init.method ?? 'GET').toUpperCase();
  let payload = body instanceof ArrayBuffer ? new Uint8Array(body) : (body ?? undefined);
  const headers = headerRecord(init.headers);
  for (let redirects = 0; ; redirects++) {
    const res = await send(url, method, headers, payload, init.signal ?? undefined);
    const location = res.headers.location;
    if (!REDIRECT_STATUSES.has(res.statusCode ?? 0) || location === undefined || init.redirect === 'manual') return toResponse(res, method, url, redirects > 0, init.signal ?? undefined);
    res.resume();
    if (init.redirect === 'error') throw new TypeError(`fetch failed: redirect to ${location} refused`);
    if (redirects >= MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects`);
    url = new URL(location, url);
    // As fetch does: 303, and 301/302 after a POST, become a GET without a body.
    if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
      method = 'GET';
      payload = undefined;
      delete headers['content-type'];
      delete headers['content-length'];
    }
  }
}

function send(url: URL, method: string, headers: Record<string, string>, body: string | Uint8Array | undefined, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new TypeError(`fetch failed: unsupported protocol ${url.protocol}`));
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const agent = url.protocol === 'https:' ? httpsAgent : httpAgent;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent, signal }, resolve);
    req.on('error', (error) => reject(error.name === 'AbortError' ? error : new TypeError('fetch failed', { cause: error })));
    req.end(body);
  });
}

function toResponse(res: IncomingMessage, method: string, url: URL, redirected: boolean, signal: AbortSignal | undefined): FetchResponse {
  const headers = new FetchHeaders();
  for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  const status = res.statusCode ?? 500;
  const init = { status, statusText: res.statusMessage ?? '', headers, url: url.href, redirected };
  if (method === 'HEAD' || NULL_BODY_STATUSES.has(status)) {
    res.resume();
    return new FetchResponse(null, init);
  }
  return new FetchResponse(Readable.toWeb(abortable(decoded(res), signal)) as ReadableStream<Uint8Array>, init);
}

/** As with fetch, an abort while the body streams errors it with the signal's reason, not a socket error. */
function abortable(body: Readable, signal: AbortSignal | undefined): Readable {
  if (signal === undefined) return body;
  const out = new PassThrough();
  const onAbort = (): void => void out.destroy(signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError'));
  signal.addEventListener('abort', onAbort, { once: true });
  out.on('close', () => signal.removeEventListener('abort', onAbort));
  body.on('error', (error) => {
    if (!signal.aborted) out.destroy(error);
  });
  return body.pipe(out);
}

/** The body as fetch hands it over: decompressed when the server encoded it. */
function decoded(res: IncomingMessage): Readable {
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : undefined;
  if (decoder === undefined) return res;
  res.on('error', (error) => decoder.destroy(error));
  return res.pipe(decoder);
}

function headerRecord(headers: HeadersInit | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  new FetchHeaders(headers as HeadersSource).forEach((value, name) => {
    record[name] = value;
  });
  return record;
}
