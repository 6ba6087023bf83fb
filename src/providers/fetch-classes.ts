/**
 * Headers and Response for node-http-fetch.ts, without Node's own fetch
 * classes. Node defines Headers, Request, Response and FormData as lazy
 * globals, and the first touch of any of them loads its whole fetch stack
 * (undici, which compiles a WebAssembly HTTP parser): about 12 MiB of
 * resident memory, for classes a gateway whose model calls go through
 * node:http only needs the shape of. These are that shape, as much of it as
 * the provider SDKs use.
 *
 * Instances carry a registered symbol rather than relying on class identity:
 * pincer.mjs and each vendored SDK bundle hold their own copy of this module,
 * and `instanceof` must hold across them (sdk-fetch-globals.ts).
 */

import { Blob } from 'node:buffer';

const HEADERS_BRAND = Symbol.for('pincer.fetch-headers');
const RESPONSE_BRAND = Symbol.for('pincer.fetch-response');
/** How Node lists its fetch stack among the modules it has loaded. */
const UNDICI_MODULE = 'NativeModule internal/deps/undici/undici';

/**
 * Whether Node's fetch stack is loaded, so that an instance of its classes
 * can exist. Unknowable without process.moduleLoadList: then assume it is.
 */
export function isNodeFetchLoaded(): boolean {
  const loaded = (process as { moduleLoadList?: readonly string[] }).moduleLoadList;
  return loaded === undefined || loaded.includes(UNDICI_MODULE);
}

/** `value instanceof globalThis[name]`, without loading Node's fetch stack to find out that nothing is. */
export function isNodeFetchInstance(value: unknown, name: 'Headers' | 'Request' | 'Response' | 'FormData'): boolean {
  return typeof value === 'object' && value !== null && isNodeFetchLoaded() && value instanceof globalThis[name];
}

export type HeadersSource = Iterable<readonly [string, string]> | Record<string, string | readonly string[] | undefined> | undefined | null;

/** The Headers contract: case-insensitive names, values of one name joined by ", " (Set-Cookie kept apart), iterated sorted. */
export class FetchHeaders implements Iterable<[string, string]> {
  static [Symbol.hasInstance](value: unknown): boolean {
    return (typeof value === 'object' && value !== null && HEADERS_BRAND in value) || isNodeFetchInstance(value, 'Headers');
  }

  readonly [HEADERS_BRAND] = true;
  readonly #values = new Map<string, string[]>();

  constructor(init?: HeadersSource) {
    if (init === undefined || init === null) return;
    if (Symbol.iterator in init) {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair.length !== 2) throw new TypeError('Headers: each entry must be a [name, value] pair');
        this.append(pair[0], pair[1]);
      }
      return;
    }
    for (const [name, value] of Object.entries(init)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const one of value) this.append(name, one);
      else this.append(name, String(value));
    }
  }

  append(name: string, value: string): void {
    const key = normalisedName(name);
    const list = this.#values.get(key);
    if (list === undefined) this.#values.set(key, [normalisedValue(value)]);
    else list.push(normalisedValue(value));
  }

  set(name: string, value: string): void {
    this.#values.set(normalisedName(name), [normalisedValue(value)]);
  }

  get(name: string): string | null {
    return this.#values.get(normalisedName(name))?.join(', ') ?? null;
  }

  getSetCookie(): string[] {
    return [...(this.#values.get('set-cookie') ?? [])];
  }

  has(name: string): boolean {
    return this.#values.has(normalisedName(name));
  }

  delete(name: string): void {
    this.#values.delete(normalisedName(name));
  }

  forEach(callback: (value: string, name: string, headers: FetchHeaders) => void, thisArg?: unknown): void {
    for (const [name, value] of this) callback.call(thisArg, value, name, this);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of [...this.#values.keys()].sort()) {
      const values = this.#values.get(name) ?? [];
      if (name === 'set-cookie') for (const value of values) yield [name, value];
      else yield [name, values.join(', ')];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

export interface FetchResponseInit {
  status: number;
  statusText?: string;
  headers: FetchHeaders;
  url?: string;
  redirected?: boolean;
}

/** The Response contract for a body that arrives as a stream: status, headers, and the body read once, as a stream or whole. */
export class FetchResponse {
  static [Symbol.hasInstance](value: unknown): boolean {
    return (typeof value === 'object' && value !== null && RESPONSE_BRAND in value) || isNodeFetchInstance(value, 'Response');
  }

  readonly [RESPONSE_BRAND] = true;
  readonly status: number;
  readonly statusText: string;
  readonly headers: FetchHeaders;
  readonly url: string;
  readonly redirected: boolean;
  readonly type = 'basic';
  #body: ReadableStream<Uint8Array> | null;
  #read = false;

  constructor(body: ReadableStream<Uint8Array> | null, init: FetchResponseInit) {
    this.#body = body;
    this.status = init.status;
    this.statusText = init.statusText ?? '';
    this.headers = init.headers;
    this.url = init.url ?? '';
    this.redirected = init.redirected ?? false;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#body;
  }

  get bodyUsed(): boolean {
    return this.#read || this.#body?.locked === true;
  }

  async bytes(): Promise<Uint8Array> {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.#read = true;
    if (this.#body === null) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.#body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    // TextDecoder drops a leading byte-order mark, as fetch's text() does.
    return new TextDecoder().decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async blob(): Promise<Blob> {
    return new Blob([await this.bytes()], { type: this.headers.get('content-type') ?? '' });
  }

  clone(): FetchResponse {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    const init = { status: this.status, statusText: this.statusText, headers: new FetchHeaders(this.headers), url: this.url, redirected: this.redirected };
    if (this.#body === null) return new FetchResponse(null, init);
    // A stream is read once: keep one branch and hand the other to the clone.
    const [mine, theirs] = this.#body.tee();
    this.#body = mine;
    return new FetchResponse(theirs, init);
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function normalisedName(name: string): string {
  const text = String(name);
  if (!TOKEN.test(text)) throw new TypeError(`Headers: invalid header name "${text}"`);
  return text.toLowerCase();
}

function normalisedValue(value: string): string {
  const text = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  if (/[\0\r\n]/.test(text)) throw new TypeError('Headers: a header value may not hold NUL, CR or LF');
  return text;
}
