/**
 * The web_fetch tool: one HTTP(S) GET with a time cap and a size cap.
 * Private, loopback, link-local and other non-public addresses are refused
 * unless allowPrivateNetwork is set. The check runs on the addresses the name
 * resolves to, at connect time (so a name pointing at 127.0.0.1 is refused),
 * and again for every redirect.
 */

import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import * as v from 'valibot';

import { classifyAddress } from './address-policy.js';
import { argumentsSchema, parseArguments, ToolInputError } from './agent-tool.js';
import type { AgentTool } from './agent-tool.js';
import { htmlToText } from './html-text.js';
import type { ToolOutcome } from '../tool-types.js';

/** Redirects followed at most. */
export const MAX_REDIRECTS = 5;
/** Longest URL accepted (chars). */
const MAX_URL_CHARS = 8_192;
const USER_AGENT = 'Pincer web_fetch';

/** dns.lookup's shape, with `all: true` always asked for. */
export type LookupAll = (hostname: string, options: LookupOptions & { all: true }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export interface WebFetchOptions {
  /** Allow loopback, private, link-local and other non-public addresses (default false). */
  allowPrivateNetwork: boolean;
  /** The whole fetch, redirects included, is cut after this long (ms). */
  timeoutMs: number;
  /** Response body bytes kept at most (after decompression); the rest is not downloaded. */
  maxBytes: number;
  /** Name resolution (default dns.lookup). */
  lookup?: LookupAll;
}

const fetchSchema = argumentsSchema({
  url: v.pipe(v.string('expected a URL string'), v.maxLength(MAX_URL_CHARS, `must be at most ${MAX_URL_CHARS} characters`)),
});

interface Fetched {
  url: string;
  status: number;
  statusText: string;
  contentType: string;
  body: Buffer;
  truncated: boolean;
}

/** The web_fetch tool. */
export function createWebFetchTool(options: WebFetchOptions): AgentTool {
  return {
    spec: {
      name: 'web_fetch',
      description:
        'Fetch a web page or file with HTTP GET (http or https) and return its text. HTML is converted to plain text. ' +
        `At most ${options.maxBytes} bytes are read.`,
      parameters: {
        type: 'object',
        properties: { url: { type: 'string', description: 'Absolute http:// or https:// URL' } },
        required: ['url'],
        additionalProperties: false,
      },
    },
    execute: async (args, signal) => {
      const { url } = parseArguments(fetchSchema, args);
      const fetched = await fetchWithCaps(parseUrl(url), options, signal);
      return describe(fetched, options.maxBytes);
    },
  };
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ToolInputError(`invalid URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ToolInputError(`only http and https URLs can be fetched, got ${url.protocol}`);
  return url;
}

async function fetchWithCaps(first: URL, options: WebFetchOptions, runSignal: AbortSignal): Promise<Fetched> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(new Error('the run was stopped'));
  if (runSignal.aborted) onAbort();
  else runSignal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
  try {
    let url = first;
    for (let redirects = 0; ; redirects++) {
      const response = await request(url, options, controller.signal);
      const location = response.headers.location;
      if (response.statusCode !== undefined && response.statusCode >= 300 && response.statusCode < 400 && location !== undefined) {
        // Hang up rather than drain: the body is unused and may never end.
        response.destroy();
        if (redirects >= MAX_REDIRECTS) throw new ToolInputError(`too many redirects (more than ${MAX_REDIRECTS})`);
        url = parseUrl(new URL(location, url).href);
        continue;
      }
      const { body, truncated } = await readBody(response, options.maxBytes);
      return {
        url: url.href,
        status: response.statusCode ?? 0,
        statusText: response.statusMessage ?? '',
        contentType: response.headers['content-type'] ?? '',
        body,
        truncated,
      };
    }
  } catch (error) {
    if (controller.signal.aborted) throw new Error(`fetch of ${first.href} stopped: ${reasonText(controller.signal.reason)}`);
    throw error;
  } finally {
    clearTimeout(timer);
    runSignal.removeEventListener('abort', onAbort);
  }
}

function request(url: URL, options: WebFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  // An IP literal is connected to without a lookup, so it is checked here.
  if (isIP(host) !== 0) checkAddress(host, host, options.allowPrivateNetwork);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, {
      method: 'GET',
      signal,
      // A fresh connection each time: a pooled socket would skip the lookup check.
      agent: false,
      lookup: guardedLookup(options),
      headers: {
        'user-agent': USER_AGENT,
        accept: 'text/html, text/plain, application/json, application/xml;q=0.9, */*;q=0.5',
        'accept-encoding': 'gzip, deflate, br',
      },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

/** A lookup for http.request that fails the connection when any resolved address is not allowed. */
function guardedLookup(options: WebFetchOptions) {
  const resolveAll: LookupAll = options.lookup ?? ((hostname, lookupOptions, callback) => dnsLookup(hostname, lookupOptions, callback));
  return (hostname: string, lookupOptions: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    resolveAll(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, '');
      try {
        if (addresses.length === 0) throw new ToolInputError(`${hostname} did not resolve to any address`);
        // Every address, not just the first: the connection may try any of them.
        for (const entry of addresses) checkAddress(hostname, entry.address, options.allowPrivateNetwork);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, '');
      }
      if (lookupOptions.all === true) return callback(null, addresses);
      const [firstAddress] = addresses as [LookupAddress];
      return callback(null, firstAddress.address, firstAddress.family);
    });
  };
}

function checkAddress(hostname: string, address: string, allowPrivateNetwork: boolean): void {
  if (allowPrivateNetwork) return;
  const kind = classifyAddress(address);
  if (kind === undefined) return;
  const via = hostname === address ? address : `${hostname} resolves to ${address}, which`;
  throw new ToolInputError(
    `refused: ${via} is a ${kind} address; web_fetch reaches only public addresses unless tools.webFetch.allowPrivateNetwork is true`,
  );
}

/** Read up to maxBytes of the decoded body; stop the download beyond that. */
async function readBody(response: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; truncated: boolean }> {
  const encoding = String(response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const decoders: Record<string, () => Readable & NodeJS.WritableStream> = { gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate, br: createBrotliDecompress };
  const decoder = decoders[encoding]?.();
  if (decoder === undefined && encoding !== 'identity' && encoding !== '') {
    response.destroy();
    throw new ToolInputError(`unsupported content encoding: ${encoding}`);
  }
  // pipeline, not pipe: a response cut by the timeout must fail the decoder too, or the read below never ends.
  const stream: Readable = decoder === undefined ? response : pipeline(response, decoder, () => {});
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const room = maxBytes - kept;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        kept = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(chunk);
      kept += chunk.length;
    }
  } finally {
    if (truncated) response.destroy();
    decoder?.destroy();
  }
  return { body: Buffer.concat(chunks), truncated };
}

function describe(fetched: Fetched, maxBytes: number): ToolOutcome {
  const type = fetched.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const header = `URL: ${fetched.url}\nStatus: ${fetched.status} ${fetched.statusText}`.trimEnd() + `\nContent-Type: ${fetched.contentType || '(none)'}\n\n`;
  const isError = fetched.status >= 400;
  let body: string;
  if (isTextual(type) || (type === '' && !fetched.body.includes(0))) {
    const text = fetched.body.toString('utf8');
    body = type === 'text/html' || type === 'application/xhtml+xml' ? htmlToText(text) : text;
  } else {
    body = `[binary content not shown: ${fetched.body.length}${fetched.truncated ? '+' : ''} bytes of ${type}]`;
  }
  const note = fetched.truncated ? `\n\n[truncated: only the first ${maxBytes} bytes were read]` : '';
  return { content: [{ type: 'text', text: header + body + note }], isError };
}

function isTextual(type: string): boolean {
  return (
    type.startsWith('text/') ||
    /^application\/(json|xml|xhtml\+xml|javascript|ecmascript|x-www-form-urlencoded|yaml|x-yaml|toml)$/.test(type) ||
    /\+(json|xml)$/.test(type)
  );
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
