/**
 * The process host: one HTTP server on one port with the health and ready
 * endpoints, pluggable routes, an upgrade hook for the WebSocket channel,
 * and a bounded drain on shutdown.
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorBody, rejectUpgrade, rejectUpgradeUnavailable, SECURITY_HEADERS } from '../protocol/http-refusal.js';
import type { Logger } from '../util/logger.js';
import { handleHealthRoute } from './health-routes.js';
import { sendJson } from './http-response.js';
import type { GatewayPhase } from './readiness.js';
import { Readiness } from './readiness.js';

export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
/** Whole request (headers and body) must arrive within this. Node's default is 300 s. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Headers must arrive within this (slowloris guard). */
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * How often Node checks the two timeouts above. Node's default is 30 s, which
 * let a slow client hold a socket up to 30 s past either limit.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 250;
/** Idle keep-alive connections close after this (OpenClaw sends `keep-alive: timeout=5`). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Node's default is 2000. */
export const MAX_HEADERS_COUNT = 100;

/** An HTTP route: returns true when it handled the request, false to let the next one try. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/** Takes over an upgrade request (the WebSocket channel). Must answer or destroy the socket. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void | Promise<void>;

export interface DrainContext {
  reason: string;
  /** Aborted when the drain budget runs out: stop waiting and wrap up. */
  signal: AbortSignal;
  /** Epoch ms by which the hook should be done. */
  deadlineMs: number;
}

/** Work to finish before exit: end runs, say `shutdown` to sockets. Hooks run in parallel. */
export type DrainHook = (context: DrainContext) => void | Promise<void>;

export interface GatewayServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** When false, every upgrade gets 404 and no 101. */
  websocket: boolean;
  /** Reported by /startupz. */
  version: string;
  logger: Logger;
  /** Total budget for drain hooks and in-flight requests, ms. Default 10000. */
  drainTimeoutMs?: number;
  /** Open TCP connections, HTTP and upgraded together; more are closed at once. Default unlimited. */
  maxConnections?: number;
  /** Headers must arrive within this, ms (default 10000). */
  headersTimeoutMs?: number;
  /** Headers and body must arrive within this, ms (default 30000). */
  requestTimeoutMs?: number;
  /** Tried in order after the health routes and before the 404. */
  routes?: HttpRoute[];
  onUpgrade?: UpgradeHandler;
}

/** Thrown by listen() with a one-line message (port in use, permission denied, …). */
export class ListenError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'ListenError';
    this.code = code;
  }
}

export class GatewayServer {
  readonly readiness = new Readiness();
  readonly server: Server;
  readonly #options: GatewayServerOptions;
  readonly #logger: Logger;
  readonly #routes: HttpRoute[];
  readonly #drainHooks: { name: string; hook: DrainHook }[] = [];
  readonly #upgradedSockets = new Set<Duplex>();
  #upgradeHandler: UpgradeHandler | undefined;
  #drainPromise: Promise<void> | undefined;
  #address: { host: string; port: number } | undefined;

  constructor(options: GatewayServerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#routes = [...(options.routes ?? [])];
    this.#upgradeHandler = options.onUpgrade;
    const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    const headersTimeout = Math.min(options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS, requestTimeout);
    this.server = createServer({ requestTimeout, headersTimeout, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS });
    if (options.maxConnections !== undefined) this.server.maxConnections = options.maxConnections;
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server.maxHeadersCount = MAX_HEADERS_COUNT;
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#handleRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#handleUpgrade(req, socket, head));
  }

  get phase(): GatewayPhase {
    return this.readiness.phase;
  }

  /** The bound address; throws before listen() resolved. */
  get address(): { host: string; port: number } {
    if (this.#address === undefined) throw new Error('gateway is not listening');
    return this.#address;
  }

  /** Add a route after construction (e.g. one that needs the bound port). */
  addRoute(route: HttpRoute): void {
    this.#routes.push(route);
  }

  setUpgradeHandler(handler: UpgradeHandler): void {
    this.#upgradeHandler = handler;
  }

  /** Register work for the drain; see DrainHook. */
  onDrain(name: string, hook: DrainHook): void {
    this.#drainHooks.push({ name, hook });
  }

  /** Bind the port. Rejects with ListenError. */
  listen(): Promise<{ host: string; port: number }> {
    const { host, port } = this.#options;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        this.server.off('listening', onListening);
        reject(toListenError(error, host, port));
      };
      const onListening = (): void => {
        this.server.off('error', onError);
        const bound = this.server.address() as AddressInfo;
        this.#address = { host, port: bound.port };
        this.server.on('error', (error) => this.#logger.error('http server error', { err: error }));
        resolve(this.#address);
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen({ host, port });
    });
  }

  /** Start-up is complete: /ready turns 200 once every expected component has reported in. */
  markStarted(): void {
    this.readiness.markStarted();
  }

  /**
   * Drain: /ready turns 503 and upgrades are refused at once, drain hooks get
   * the budget, then the listener closes and leftover connections are cut.
   * Idempotent: later calls return the first drain's promise. Never rejects.
   */
  drain(reason = 'shutdown'): Promise<void> {
    this.#drainPromise ??= this.#runDrain(reason);
    return this.#drainPromise;
  }

  /** Same as drain('close'). */
  close(): Promise<void> {
    return this.drain('close');
  }

  async #runDrain(reason: string): Promise<void> {
    const budgetMs = this.#options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const startedMs = Date.now();
    const deadlineMs = startedMs + budgetMs;
    this.readiness.beginDrain();
    this.#logger.info('draining', { reason, budgetMs, hooks: this.#drainHooks.map((entry) => entry.name) });

    const controller = new AbortController();
    const budgetTimer = setTimeout(() => controller.abort(), budgetMs);
    const pending = new Set(this.#drainHooks.map((entry) => entry.name));
    const hooks = Promise.allSettled(
      this.#drainHooks.map(async ({ name, hook }) => {
        try {
          await hook({ reason, signal: controller.signal, deadlineMs });
        } catch (error) {
          this.#logger.warn('drain hook failed', { hook: name, err: error });
        } finally {
          pending.delete(name);
        }
      }),
    );
    const budgetOver = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([hooks, budgetOver]);
    clearTimeout(budgetTimer);
    if (pending.size > 0) this.#logger.warn('drain budget exhausted', { budgetMs, pending: [...pending] });

    await this.#closeListener(Math.max(0, deadlineMs - Date.now()));
    this.readiness.markClosed();
    this.#logger.info('drained', { reason, durationMs: Date.now() - startedMs });
  }

  /** Stop accepting, let in-flight requests finish within `graceMs`, then cut what is left. */
  async #closeListener(graceMs: number): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      const cutTimer = setTimeout(() => {
        this.server.closeAllConnections();
        for (const socket of this.#upgradedSockets) socket.destroy();
      }, graceMs);
      this.server.close(() => {
        clearTimeout(cutTimer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  async #handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    // Ask keep-alive clients to reconnect elsewhere once the drain has begun.
    if (this.readiness.phase !== 'ready' && this.readiness.phase !== 'starting') res.setHeader('connection', 'close');
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://gateway.invalid').pathname;
    } catch {
      sendJson(res, 400, errorBody('Bad Request', 'invalid_request'));
      return;
    }
    try {
      if (handleHealthRoute(req, res, pathname, this.readiness, this.#options.version)) return;
      for (const route of this.#routes) {
        if (await route(req, res)) return;
      }
      sendJson(res, 404, errorBody('Not Found', 'not_found'));
    } catch (error) {
      this.#logger.error('http route failed', { method: req.method, path: pathname, err: error });
      if (!res.headersSent) sendJson(res, 500, errorBody('Internal Server Error', 'server_error'));
      else res.destroy();
    }
  }

  #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#upgradedSockets.add(socket);
    socket.once('close', () => this.#upgradedSockets.delete(socket));
    // Without a listener a reset from the peer would crash the process.
    socket.on('error', (error) => this.#logger.debug('upgrade socket error', { err: error }));

    if (!this.#options.websocket) {
      rejectUpgrade(socket, 404, errorBody('WebSocket is disabled on this gateway', 'not_found'));
      return;
    }
    const phase = this.readiness.phase;
    if (phase !== 'ready') {
      rejectUpgradeUnavailable(socket, phase === 'starting' ? 'startup' : 'shutdown');
      return;
    }
    const handler = this.#upgradeHandler;
    if (handler === undefined) {
      rejectUpgrade(socket, 404, errorBody('Not Found', 'not_found'));
      return;
    }
    const fail = (error: unknown): void => {
      this.#logger.error('upgrade handler failed', { err: error });
      rejectUpgrade(socket, 500, errorBody('Internal Server Error', 'server_error'));
    };
    try {
      const result = handler(req, socket, head);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  }
}

/** Create (not yet listening) the gateway's HTTP server. */
export function createGatewayServer(options: GatewayServerOptions): GatewayServer {
  return new GatewayServer(options);
}

function toListenError(error: Error, host: string, port: number): ListenError {
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ListenError(
        `cannot listen on ${where}: address already in use (is another gateway running? try \`pincer status\` or another --port)`,
        code,
        error,
      );
    case 'EACCES':
      return new ListenError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`, code, error);
    case 'EADDRNOTAVAIL':
      return new ListenError(`cannot listen on ${where}: address not available on this machine`, code, error);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(`cannot listen on ${where}: unknown host ${host}`, code, error);
    default:
      return new ListenError(`cannot listen on ${where}: ${error.message}`, code, error);
  }
}
