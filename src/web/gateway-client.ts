/**
 * The page's one long-lived OpenClaw protocol connection (docs/protocol.md §2): wait
 * for connect.challenge, send connect, then carry requests and events. It
 * reconnects with backoff, except when the gateway refused the credentials.
 */

import { parseFrame, parseHello, type Frame, type WireError } from './frames.js';

const MIN_PROTOCOL = 3;
const MAX_PROTOCOL = 4;
/** Send connect anyway if no challenge came by then (the gateway accepts an early connect, §2.1). */
const CHALLENGE_WAIT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 20_000;
const RECONNECT_BASE_MS = 500;
const RECONNECT_MAX_MS = 15_000;
const DEFAULT_TICK_INTERVAL_MS = 30_000;
/** Extra slack on top of two tick intervals before a silent socket counts as dead (§8.5). */
const TICK_GRACE_MS = 5_000;

/** A failed request: the gateway's `error` object, or a local failure (timeout, not connected). */
export class RequestError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, details: Record<string, unknown> = {}, retryAfterMs?: number) {
    super(message);
    this.name = 'RequestError';
    this.code = code;
    this.details = details;
    this.retryAfterMs = retryAfterMs;
  }

  /** `details.code` when the gateway gave one (AUTH_TOKEN_MISMATCH, AUTH_RATE_LIMITED, ...). */
  get detailCode(): string | undefined {
    const code = this.details['code'];
    return typeof code === 'string' ? code : undefined;
  }

  static fromWire(error: WireError | undefined): RequestError {
    if (!error) return new RequestError('UNAVAILABLE', 'the gateway returned an invalid response');
    return new RequestError(error.code, error.message, error.details ?? {}, error.retryAfterMs);
  }
}

/** What the connection is doing; `refused` stops reconnecting until `start()` is called again. */
export type ConnectionState =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'retrying'; retryAt: number; reason: string }
  | { kind: 'refused'; error: RequestError; badCredentials: boolean }
  | { kind: 'stopped' };

export interface GatewayClientOptions {
  /** `ws(s)://host/` of the page's own origin. */
  url: string;
  token: string;
  version: string;
  onState(state: ConnectionState): void;
  /** After every successful connect, including reconnects: the caller resyncs here. */
  onConnected(): void;
  /** Every event after hello-ok except the challenge. */
  onEvent(event: string, payload: unknown): void;
}

interface Pending {
  resolve(payload: unknown): void;
  reject(error: RequestError): void;
  timer: ReturnType<typeof setTimeout>;
}

/** A reconnecting protocol client for one token. */
export class GatewayClient {
  readonly #options: GatewayClientOptions;
  #ws: WebSocket | null = null;
  #pending = new Map<string, Pending>();
  #nextId = 1;
  #attempt = 0;
  #connectSent = false;
  #connected = false;
  #stopped = true;
  /** Set by a failed connect so the close that follows does not override the decision. */
  #afterClose: { kind: 'refused'; error: RequestError; badCredentials: boolean } | { kind: 'retry'; delayMs: number; reason: string } | null = null;
  #tickIntervalMs = DEFAULT_TICK_INTERVAL_MS;
  #challengeTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #watchdogTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: GatewayClientOptions) {
    this.#options = options;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Open the connection (again). */
  start(): void {
    this.#stopped = false;
    this.#attempt = 0;
    clearTimeout(this.#retryTimer);
    if (!this.#ws) this.#open();
  }

  /** Close for good; pending requests fail. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    const ws = this.#ws;
    this.#dropSocket('stopped');
    ws?.close(1000, 'bye');
    this.#options.onState({ kind: 'stopped' });
  }

  /** Skip the remaining backoff (e.g. the browser came back online). */
  retryNow(): void {
    if (this.#stopped || this.#ws) return;
    clearTimeout(this.#retryTimer);
    this.#open();
  }

  /** Send a request; resolves with `payload` or rejects with a RequestError. */
  request(method: string, params: Record<string, unknown>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    if (!this.#connected) return Promise.reject(new RequestError('UNAVAILABLE', 'not connected to the gateway'));
    return this.#send(method, params, timeoutMs);
  }

  #send(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new RequestError('UNAVAILABLE', 'not connected to the gateway'));
    }
    const id = `web-${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RequestError('UNAVAILABLE', `${method} timed out`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ type: 'req', id, method, params }));
    });
  }

  #open(): void {
    this.#connectSent = false;
    this.#afterClose = null;
    this.#options.onState({ kind: 'connecting' });
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#options.url);
    } catch (error) {
      this.#scheduleRetry(error instanceof Error ? error.message : 'cannot open a connection');
      return;
    }
    this.#ws = ws;
    ws.addEventListener('open', () => {
      if (ws !== this.#ws) return;
      this.#armWatchdog();
      this.#challengeTimer = setTimeout(() => this.#sendConnect(), CHALLENGE_WAIT_MS);
    });
    ws.addEventListener('message', (event) => {
      if (ws !== this.#ws || typeof event.data !== 'string') return;
      const frame = parseFrame(event.data);
      if (frame) this.#onFrame(frame);
    });
    ws.addEventListener('close', (event) => {
      if (ws !== this.#ws) return;
      this.#onClosed(describeClose(event));
    });
  }

  #sendConnect(): void {
    if (this.#connectSent) return;
    this.#connectSent = true;
    clearTimeout(this.#challengeTimer);
    const params = {
      minProtocol: MIN_PROTOCOL,
      maxProtocol: MAX_PROTOCOL,
      client: { id: 'pincer-web', mode: 'webchat', version: this.#options.version, platform: 'web' },
      role: 'operator',
      scopes: ['operator.admin'],
      caps: [],
      auth: { token: this.#options.token },
      userAgent: navigator.userAgent,
      locale: navigator.language,
    };
    this.#send('connect', params, REQUEST_TIMEOUT_MS).then(
      (payload) => this.#onHello(payload),
      (error: RequestError) => this.#onConnectFailed(error),
    );
  }

  #onHello(payload: unknown): void {
    const hello = parseHello(payload);
    if (!hello) {
      this.#onConnectFailed(new RequestError('UNAVAILABLE', 'the gateway returned an invalid hello'));
      return;
    }
    this.#tickIntervalMs = hello.tickIntervalMs ?? DEFAULT_TICK_INTERVAL_MS;
    this.#connected = true;
    this.#attempt = 0;
    this.#armWatchdog();
    this.#options.onState({ kind: 'connected' });
    this.#options.onConnected();
  }

  #onConnectFailed(error: RequestError): void {
    const detail = error.detailCode;
    if (detail === 'AUTH_RATE_LIMITED' || (error.code === 'UNAVAILABLE' && error.retryAfterMs !== undefined)) {
      this.#afterClose = { kind: 'retry', delayMs: error.retryAfterMs ?? RECONNECT_MAX_MS, reason: error.message };
    } else if (error.code === 'UNAVAILABLE') {
      this.#afterClose = null;
    } else {
      const badCredentials = error.message.startsWith('unauthorized') || (detail?.startsWith('AUTH_') ?? false);
      this.#afterClose = { kind: 'refused', error, badCredentials };
    }
    // The gateway closes after a failed connect (§2.6); close too in case it does not.
    const ws = this.#ws;
    if (ws) {
      this.#onClosed(error.message);
      ws.close(1000, 'connect failed');
    }
  }

  #onFrame(frame: Frame): void {
    this.#armWatchdog();
    if (frame.type === 'res') {
      const pending = this.#pending.get(frame.id);
      if (!pending) return;
      this.#pending.delete(frame.id);
      clearTimeout(pending.timer);
      if (frame.ok) pending.resolve(frame.payload);
      else pending.reject(RequestError.fromWire(frame.error));
      return;
    }
    if (frame.event === 'connect.challenge') {
      this.#sendConnect();
      return;
    }
    if (this.#connected) this.#options.onEvent(frame.event, frame.payload);
  }

  /** Forget the current socket: timers off, pending requests failed. */
  #dropSocket(reason: string): void {
    clearTimeout(this.#challengeTimer);
    clearTimeout(this.#watchdogTimer);
    this.#ws = null;
    this.#connected = false;
    const error = new RequestError('UNAVAILABLE', `connection closed: ${reason}`);
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }

  #onClosed(reason: string): void {
    this.#dropSocket(reason);
    if (this.#stopped) return;
    const next = this.#afterClose;
    if (next?.kind === 'refused') {
      this.#options.onState(next);
      return;
    }
    if (next?.kind === 'retry') {
      this.#scheduleRetry(next.reason, next.delayMs);
      return;
    }
    this.#scheduleRetry(reason);
  }

  #scheduleRetry(reason: string, delayMs?: number): void {
    const backoff = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.#attempt) * (0.8 + Math.random() * 0.4);
    this.#attempt += 1;
    const delay = Math.max(0, delayMs ?? backoff);
    this.#options.onState({ kind: 'retrying', retryAt: Date.now() + delay, reason });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (!this.#stopped && !this.#ws) this.#open();
    }, delay);
  }

  /** Ticks arrive every tickIntervalMs (§8.5); silence for two of them means the link is dead. */
  #armWatchdog(): void {
    clearTimeout(this.#watchdogTimer);
    const ws = this.#ws;
    this.#watchdogTimer = setTimeout(() => {
      if (ws !== this.#ws || !ws) return;
      this.#onClosed('no data from the gateway');
      ws.close(4000, 'tick timeout');
    }, this.#tickIntervalMs * 2 + TICK_GRACE_MS);
  }
}

function describeClose(event: CloseEvent): string {
  if (event.reason) return event.reason;
  if (event.code === 1006) return 'connection lost';
  return `connection closed (${event.code})`;
}
