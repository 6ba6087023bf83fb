/**
 * What the vendored provider SDKs see as the global Headers, Response,
 * Request and FormData (scripts/bundle-cli.mjs injects this module into
 * vendor/openai.mjs and vendor/anthropic-sdk.mjs). The SDKs name these
 * classes on every request, mostly in `instanceof` checks, and merely naming
 * Node's global loads its whole fetch stack (see fetch-classes.ts). Here
 * `instanceof` answers for Pincer's classes and, once something else has
 * loaded it, for Node's; `new Headers()` makes Pincer's; the rest (building
 * an upload's form or body) is handed to Node's own classes when it is used.
 */

import { FetchHeaders, FetchResponse, isNodeFetchInstance } from './fetch-classes.js';

export { FetchHeaders as Headers };

/** Node's own Response when constructed; `instanceof` also holds for node-http-fetch's answers. */
export class Response {
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof FetchResponse;
  }

  constructor(...args: ConstructorParameters<typeof globalThis.Response>) {
    return new globalThis.Response(...args);
  }
}

export class Request {
  static [Symbol.hasInstance](value: unknown): boolean {
    return isNodeFetchInstance(value, 'Request');
  }

  constructor(...args: ConstructorParameters<typeof globalThis.Request>) {
    return new globalThis.Request(...args);
  }
}

export class FormData {
  static [Symbol.hasInstance](value: unknown): boolean {
    return isNodeFetchInstance(value, 'FormData');
  }

  constructor(...args: ConstructorParameters<typeof globalThis.FormData>) {
    return new globalThis.FormData(...args);
  }
}
