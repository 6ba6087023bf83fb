/**
 * The plumbing every SDK-backed provider shares: the SDK imported on the
 * first call (not at start-up), one client per provider, and each attempt's
 * chunks fed through a reader into driveStream. A provider supplies only how
 * to build its client, how to open one stream and how to read its chunks.
 */

import type { ProviderEvent, ProviderOptions } from './types.js';
import { DEFAULT_RETRY_BASE_DELAY_MS, ProviderFailure, driveStream } from './drive-stream.js';
import type { AttemptEvent } from './drive-stream.js';
import { nodeHttpFetch } from './node-http-fetch.js';
import { mapSdkError, redactUrl, unexpectedError } from './provider-errors.js';
import type { ErrorContext, SdkErrorClasses } from './provider-errors.js';

/** The SDK's own timeout sits behind ours, so ours (with its message) fires first, ms. */
const SDK_TIMEOUT_SLACK_MS = 1_000;
/** The SDKs insist on a credential; with none configured none is sent (local servers need none, others answer 401). */
const KEYLESS_PLACEHOLDER = 'keyless';

/** Client settings both SDKs take alike; a provider adds its own and the keyless headers. */
export interface BaseClientOptions {
  apiKey: string;
  baseURL: string;
  maxRetries: 0;
  timeout: number;
  logLevel: 'off';
  /** node:http underneath rather than the global fetch (see node-http-fetch.ts). */
  fetch: typeof nodeHttpFetch;
}

/** Per-request settings handed to the SDK's `create` call. */
export interface RequestOptions {
  signal: AbortSignal;
  maxRetries: 0;
  timeout: number;
}

/** Translates the chunks of one stream into provider events. */
export interface StreamReader<Chunk> {
  /** True once the stream has said the reply is complete; a cut after that loses nothing. */
  readonly finished: boolean;
  read(chunk: Chunk): Iterable<ProviderEvent>;
  /** Events held back until the end (tool calls, usage) and `done`. */
  finish(): Iterable<ProviderEvent>;
}

export interface SdkClientSpec<Sdk extends SdkErrorClasses, Client> {
  options: ProviderOptions;
  /** Base URL as the SDK wants it, already normalised. */
  baseUrl: string;
  /** Names the SDK in the error when it cannot be imported. */
  sdkLabel: string;
  loadSdk: () => Promise<Sdk>;
  /**
   * Build the client. `keyless` says no API key is configured, so the
   * provider must strip the credential headers the SDK would send.
   */
  createClient: (sdk: Sdk, base: BaseClientOptions, keyless: boolean) => Client;
}

/** How one call opens its stream and reads it. */
export interface StreamSpec<Client, Chunk> {
  open: (client: Client, requestOptions: RequestOptions) => Promise<AsyncIterable<Chunk>>;
  /** A fresh reader per attempt. */
  createReader: () => StreamReader<Chunk>;
}

/** Cache one dynamic import; a failed import is forgotten so the next call tries again. */
export function lazyImport<M>(load: () => Promise<M>): () => Promise<M> {
  let loading: Promise<M> | undefined;
  return () => {
    loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
}

/** One provider's SDK client, loaded and built once, on the first call. */
export class SdkClient<Sdk extends SdkErrorClasses, Client> {
  #errorContext: ErrorContext;
  #spec: SdkClientSpec<Sdk, Client>;
  #sdk: Sdk | undefined;
  #client: Client | undefined;

  constructor(spec: SdkClientSpec<Sdk, Client>) {
    this.#spec = spec;
    const { model, timeoutMs } = spec.options;
    this.#errorContext = { model, baseUrl: redactUrl(spec.baseUrl), timeoutMs };
  }

  /** Run one model call to exactly one terminal event (see driveStream). */
  stream<Chunk>(request: StreamSpec<Client, Chunk>, signal: AbortSignal): AsyncIterable<ProviderEvent> {
    const options = this.#spec.options;
    return driveStream({
      signal,
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      retryBaseDelayMs: options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS,
      errorContext: this.#errorContext,
      prepare: () => this.#prepare(),
      attempt: (attemptSignal) => this.#attempt(request, attemptSignal),
      mapError: (err) => (this.#sdk ? mapSdkError(err, this.#sdk, this.#errorContext) : { event: unexpectedError(err) }),
    });
  }

  async *#attempt<Chunk>(request: StreamSpec<Client, Chunk>, signal: AbortSignal): AsyncGenerator<AttemptEvent, void, undefined> {
    const client = this.#client;
    if (!client) throw new ProviderFailure(unexpectedError(new Error('client not prepared')));
    const stream = await request.open(client, { signal, maxRetries: 0, timeout: this.#sdkTimeoutMs() });
    const reader = request.createReader();
    try {
      for await (const chunk of stream) {
        yield { type: 'progress' };
        yield* reader.read(chunk);
      }
    } catch (err) {
      // A connection lost after the reply was complete (e.g. while a trailing usage chunk was due) loses nothing.
      if (!reader.finished) throw err;
    }
    if (reader.finished) yield* reader.finish();
  }

  async #prepare(): Promise<void> {
    if (this.#client) return;
    this.#client = await this.#createClient();
  }

  async #createClient(): Promise<Client> {
    const spec = this.#spec;
    let sdk: Sdk;
    try {
      sdk = await spec.loadSdk();
    } catch (err) {
      throw new ProviderFailure(unexpectedError(new Error(`cannot load the ${spec.sdkLabel} SDK: ${String(err)}`)));
    }
    this.#sdk = sdk;
    const base: BaseClientOptions = {
      apiKey: spec.options.apiKey || KEYLESS_PLACEHOLDER,
      baseURL: spec.baseUrl,
      maxRetries: 0,
      timeout: this.#sdkTimeoutMs(),
      logLevel: 'off',
      fetch: nodeHttpFetch,
    };
    return spec.createClient(sdk, base, !spec.options.apiKey);
  }

  #sdkTimeoutMs(): number {
    return this.#spec.options.timeoutMs + SDK_TIMEOUT_SLACK_MS;
  }
}
