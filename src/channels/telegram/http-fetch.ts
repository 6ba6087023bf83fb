/**
 * The few HTTP calls the channel makes (Bot API JSON calls, file downloads)
 * over node:http/https with keep-alive, given to grammY as its `fetch`. The
 * global fetch would load undici, which costs a gateway about 20 MiB of
 * resident memory for a channel that makes one request at a time.
 */

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Sockets kept per host: the long poll holds one, replies use the others. */
const MAX_SOCKETS = 8;
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS });

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** The part of a fetch Response that grammY and the downloader use. */
export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  /** The body, unread. */
  readonly body: IncomingMessage;
  json(): Promise<unknown>;
}

/** A request; resolves once the response headers arrive, rejects on network errors and aborts. */
export function httpFetch(url: string | URL, init: FetchInit = {}): Promise<FetchResponse> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    if (init.signal?.aborted) return reject(abortError(init.signal));
    const req = (secure ? httpsRequest : httpRequest)(
      target,
      {
        method: init.method ?? 'GET',
        headers: { ...init.headers, ...(init.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(init.body)) }) },
        agent: secure ? httpsAgent : httpAgent,
        signal: init.signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        resolve({
          ok: status >= 200 && status < 300,
          status,
          body: res,
          async json() {
            const chunks: Buffer[] = [];
            for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
            return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
          },
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}
