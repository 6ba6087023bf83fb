/**
 * The OpenClaw WebSocket channel: the connection registry, the pre-auth
 * handshake routing, fan-out of bus events, keepalive and shutdown. Upgrades
 * pass the channel's gate (upgrade.ts) first; main.ts hands it the gateway's
 * HTTP `upgrade` events.
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import type { AgentEvent } from '../../agent/types.js';
import type { OutboundBus } from '../../bus/types.js';
import { GatewayError } from '../../protocol/errors.js';
import {
  CLOSE_INTERNAL_ERROR,
  CLOSE_POLICY_VIOLATION,
  CLOSE_REASONS,
  CLOSE_SERVICE_RESTART,
} from './close-codes.js';
import { parseFrame, type ParsedFrame } from '../../protocol/frame-parser.js';
import { serialiseErrorResponse, serialiseOkResponse } from '../../protocol/frames.js';
import { CHANNEL_EVENTS, CONNECT_METHOD, EVENT_SHUTDOWN, listFeatureMethods } from '../../protocol/method-names.js';
import { createAuthRateLimiter, type AuthRateLimiter } from '../../security/auth-rate-limiter.js';
import { createRequestGate, type RequestGate } from '../../security/request-gate.js';
import type { RequestBudgetOptions } from '../../security/request-budget.js';
import type { AuthSecretResolver } from '../../security/secret-compare.js';
import type { DeviceTokenStore } from '../../security/device-token-store.js';
import { selectSubprotocol } from '../../security/upgrade-credential.js';
import { SampledLog, type ChannelLogger } from './channel-logger.js';
import { Connection, type ConnectionHost, type ConnectionLimits, type ConnectionState } from './connection.js';
import { dispatchFrame, INTERNAL_ERROR, type DispatchContext } from './dispatch.js';
import { createFanOut } from './fan-out.js';
import { performHandshake, type HandshakeDeps } from './handshake.js';
import { createKeepalive } from './keepalive.js';
import { serialiseHelloOk } from './hello-frame.js';
import type { MethodTable, WireEvent } from './method-types.js';
import { createUpgradeGate } from './upgrade.js';
import type { PresenceClient } from './methods/system-info.js';
import { presenceOf } from './presence.js';

export { MAX_PENDING_PER_IP, MAX_PENDING_TOTAL } from './upgrade.js';

export const PRE_AUTH_MAX_BYTES = 64 * 1024;
export const CHALLENGE_DELAY_MS = 25;
/** How long a closing socket may take to answer our close frame before it is destroyed. */
export const CLOSE_TIMEOUT_MS = 2000;
export const RESTART_EXPECTED_MS = 5000;

export interface OpenClawChannelOptions {
  /** policy.maxPayload, bytes (default config 4 MiB). */
  maxPayloadBytes: number;
  /** policy.maxBufferedBytes: slow-consumer threshold, bytes. */
  maxBufferedBytes: number;
  /** tick and ping period, ms. */
  tickIntervalMs: number;
  /** Upgrade → successful connect deadline, ms. */
  handshakeTimeoutMs: number;
  /** Largest frame before connect, bytes (default 65 536). */
  preAuthMaxBytes?: number;
  /** Unauthenticated sockets per IP (default 16). */
  maxPendingPerIp?: number;
  /** Unauthenticated sockets in all (default 256). */
  maxPendingTotal?: number;
  allowedOrigins: readonly string[];
  allowedHosts: readonly string[];
  /** `gateway.trustedProxies` (used only when no `gate` is given). */
  trustedProxies?: readonly string[];
  /** Configured gateway port; the socket's local port is always allowed too. */
  port: number;
  /** Pincer version for hello-ok.server.version. */
  version: string;
  /** Epoch ms the gateway started (default: channel creation). */
  startedAt?: number;
  /** connect.challenge delay after the upgrade, ms (default 25). */
  challengeDelayMs?: number;
  /** Close handshake budget, ms (default 2000). */
  closeTimeoutMs?: number;
  /** shutdown.restartExpectedMs on restart (default 5000). */
  restartExpectedMs?: number;
  /** Flood limits (defaults: 100 consecutive errors, 50 req/s for 5 s). */
  budget?: RequestBudgetOptions;
}

export interface OpenClawChannelDeps {
  getAuthSecret: AuthSecretResolver;
  /** Every method of the channel, merged by main.ts (system, sessions, chat, agent). */
  methods: MethodTable;
  /** Where run and session events come from (subscribe only). */
  bus: Pick<OutboundBus<AgentEvent>, 'subscribe'>;
  mapEvent: (event: AgentEvent) => WireEvent[];
  isDraining(): boolean;
  logger: ChannelLogger;
  /** Shared with HTTP bearer auth; a private one is created when absent. */
  authLimiter?: AuthRateLimiter;
  /** Shared with the HTTP routes that read the secret; built from `options` when absent. */
  gate?: RequestGate;
  /** Issues and checks device tokens (§2.6); without it hello-ok carries none. */
  deviceTokens?: DeviceTokenStore;
  options: OpenClawChannelOptions;
}

export interface ChannelStats {
  connections: number;
  authenticated: number;
  /** Sockets still in AWAIT_CONNECT. */
  pending: number;
  /** IPs with a pending-socket count. */
  pendingIps: number;
  /** Per-connection session subscriptions. */
  subscriptions: number;
  /** Armed per-connection timers, delta-flush timers and the keepalive interval. */
  timers: number;
  busSubscriptions: number;
  /** Writes to a socket that was not open (the guards failed); must stay 0. */
  sendErrors: number;
  /** Writes lost because the peer vanished (EPIPE, reset); network events, not bugs. */
  peerWriteFailures: number;
  eventFramesSent: number;
}

export interface OpenClawChannel {
  /** Handle an HTTP upgrade: gate it, then complete it or answer 403/421/503. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Tell authenticated sockets `shutdown`, then close everything 1012; resolves when all closed. */
  shutdown(reason: 'shutdown' | 'restart'): Promise<void>;
  /** Drop every socket at once and release the bus subscription and timers. */
  close(): Promise<void>;
  stats(): ChannelStats;
  /** The authenticated clients, oldest first (system-presence). */
  presence(): PresenceClient[];
}

/** Build the channel. Nothing listens until main.ts routes upgrades to it. */
export function createOpenClawChannel(deps: OpenClawChannelDeps): OpenClawChannel {
  const { options, logger } = deps;
  const startedAt = options.startedAt ?? Date.now();
  const gate =
    deps.gate ??
    createRequestGate({
      allowedOrigins: options.allowedOrigins,
      allowedHosts: options.allowedHosts,
      trustedProxies: options.trustedProxies,
      port: options.port,
    });
  const limiter = deps.authLimiter ?? createAuthRateLimiter();
  const rejections = new SampledLog(logger);

  const connections = new Set<Connection>();
  const authenticated = new Set<Connection>();
  const presence = new Map<Connection, PresenceClient>();
  const closeWaiters: (() => void)[] = [];
  /** Set by shutdown() and close(): the registry takes no new sockets. */
  let stopped = false;
  /** What the handshake reads: the gateway's drain flag, or this channel stopped on its own. */
  const isDraining = (): boolean => stopped || deps.isDraining();
  const upgradeGate = createUpgradeGate({
    gate,
    isStopped: () => stopped,
    maxPendingPerIp: options.maxPendingPerIp,
    maxPendingTotal: options.maxPendingTotal,
    rejections,
  });
  let sendErrors = 0;
  let peerWriteFailures = 0;

  const wssOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    perMessageDeflate: false,
    maxPayload: options.maxPayloadBytes,
    clientTracking: false,
    closeTimeout: options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS,
    handleProtocols: (protocols) => selectSubprotocol(protocols),
  };
  const wss = new WebSocketServer(wssOptions);

  const handshakeDeps: HandshakeDeps = {
    getAuthSecret: deps.getAuthSecret,
    isDraining,
    limiter,
    featureMethods: listFeatureMethods(Object.keys(deps.methods)),
    featureEvents: CHANNEL_EVENTS,
    policy: {
      maxPayload: options.maxPayloadBytes,
      maxBufferedBytes: options.maxBufferedBytes,
      tickIntervalMs: options.tickIntervalMs,
    },
    version: options.version,
    startedAt,
    deviceTokens: deps.deviceTokens,
  };

  const dispatchContext: DispatchContext = {
    methods: deps.methods,
    maxPayload: options.maxPayloadBytes,
    logger,
    rejections,
    now: Date.now,
  };

  const fanOut = createFanOut({
    bus: deps.bus,
    mapEvent: deps.mapEvent,
    connections: () => authenticated,
    authenticatedCount: () => authenticated.size,
    maxPayload: options.maxPayloadBytes,
    logger,
  });

  const keepalive = createKeepalive({
    intervalMs: options.tickIntervalMs,
    connections: () => connections,
    now: Date.now,
  });

  const limits: ConnectionLimits = {
    preAuthMaxBytes: options.preAuthMaxBytes ?? PRE_AUTH_MAX_BYTES,
    maxBufferedBytes: options.maxBufferedBytes,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    challengeDelayMs: options.challengeDelayMs ?? CHALLENGE_DELAY_MS,
    budget: options.budget ?? {},
  };

  const host: ConnectionHost = {
    limits,
    onText(conn, text) {
      const parsed = parseFrame(text);
      if (conn.state === 'AWAIT_CONNECT') handlePreAuth(conn, parsed);
      else if (conn.state === 'AUTHED') dispatchFrame(conn, parsed, dispatchContext);
    },
    onStateChange(conn, from, to) {
      if (from === 'AWAIT_CONNECT') upgradeGate.releasePending(conn.ip);
      if (from === 'AUTHED') {
        authenticated.delete(conn);
        presence.delete(conn);
      }
      if (to === 'AUTHED') authenticated.add(conn);
    },
    onClosed(conn) {
      connections.delete(conn);
      keepalive.update(connections.size);
      if (connections.size === 0) for (const resolve of closeWaiters.splice(0)) resolve();
    },
    onSendError(conn, error, peerGone) {
      if (peerGone) {
        peerWriteFailures++;
        return;
      }
      sendErrors++;
      logger.warn('send failed on a socket believed open', { connId: conn.id, error: error.message });
    },
  };

  function handlePreAuth(conn: Connection, parsed: ParsedFrame): void {
    // Keep "the challenge is the first frame" even for clients that did not wait for it.
    conn.flushChallenge();
    if (parsed.kind === 'unreadable') {
      rejections.warn('unreadable pre-auth frame', { ip: conn.ip, reason: parsed.reason });
      conn.close(CLOSE_POLICY_VIOLATION, CLOSE_REASONS.invalidHandshake);
      return;
    }
    if (parsed.kind === 'invalid' || parsed.frame.method !== CONNECT_METHOD) {
      const message = 'invalid handshake: first request must be connect';
      rejections.warn('request before connect', { ip: conn.ip });
      const id = parsed.kind === 'invalid' ? parsed.id : parsed.frame.id;
      conn.sendText(serialiseErrorResponse(id, { code: 'INVALID_REQUEST', message }));
      conn.close(CLOSE_POLICY_VIOLATION, message);
      return;
    }
    const { id, params } = parsed.frame;
    let result;
    try {
      result = performHandshake(
        params,
        {
          connId: conn.id,
          nonce: conn.nonce,
          ip: conn.ip,
          origin: conn.origin,
          upgradeCredential: conn.upgradeCredential,
          now: Date.now(),
        },
        handshakeDeps,
      );
    } catch (error) {
      refuseConnect(conn, id, error);
      return;
    }
    conn.authenticate(result.scopes);
    presence.set(conn, presenceOf(params, result, Date.now()));
    conn.sendText(serialiseHelloOk(id, result.hello));
    logger.debug('client connected', {
      connId: conn.id,
      client: result.client.id,
      mode: result.client.mode,
      protocol: result.protocol,
      device: result.deviceId !== undefined,
      auth: result.authMethod,
    });
  }

  /** The error res always goes out before the close (§2.6). */
  function refuseConnect(conn: Connection, id: string, error: unknown): void {
    if (error instanceof GatewayError) {
      rejections.warn('connect refused', { ip: conn.ip, code: error.details?.code ?? error.code });
      conn.sendText(serialiseErrorResponse(id, error.toShape()));
      conn.close(error.closeCode ?? CLOSE_POLICY_VIOLATION, error.message);
      return;
    }
    logger.error('connect failed', { connId: conn.id, error: error instanceof Error ? error.stack : String(error) });
    conn.sendText(serialiseErrorResponse(id, INTERNAL_ERROR));
    conn.close(CLOSE_INTERNAL_ERROR, CLOSE_REASONS.internal);
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', ignoreSocketError);
    const admitted = upgradeGate.admit(req, socket);
    if (admitted === undefined) return;
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      socket.removeListener('error', ignoreSocketError);
      upgradeGate.addPending(admitted.ip);
      const conn = new Connection(ws, socket as Socket, { id: randomUUID(), nonce: randomUUID(), ...admitted }, host);
      connections.add(conn);
      keepalive.update(connections.size);
    });
  }

  function waitForAllClosed(): Promise<void> {
    if (connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => closeWaiters.push(resolve));
  }

  return {
    handleUpgrade,
    shutdown(reason) {
      stopped = true;
      const restart = reason === 'restart';
      const payload = { reason, restartExpectedMs: restart ? (options.restartExpectedMs ?? RESTART_EXPECTED_MS) : null };
      for (const conn of [...connections]) {
        if (conn.state === 'AUTHED') conn.sendEvent(EVENT_SHUTDOWN, payload);
        // 1012 either way, as OpenClaw does: clients treat it as "reconnect later"; the event tells the two apart.
        conn.close(CLOSE_SERVICE_RESTART, restart ? CLOSE_REASONS.restart : CLOSE_REASONS.shutdown);
      }
      return waitForAllClosed();
    },
    close() {
      stopped = true;
      fanOut.close();
      keepalive.stop();
      for (const conn of [...connections]) conn.terminate();
      wss.close();
      return waitForAllClosed();
    },
    presence: () => [...presence.values()],
    stats() {
      let subscriptions = 0;
      let timers = keepalive.timers + fanOut.timers;
      for (const conn of connections) {
        subscriptions += conn.subscriptionCount();
        timers += conn.timerCount();
      }
      const pending = upgradeGate.pending();
      return {
        connections: connections.size,
        authenticated: authenticated.size,
        pending: pending.sockets,
        pendingIps: pending.ips,
        subscriptions,
        timers,
        busSubscriptions: fanOut.subscriptions,
        sendErrors,
        peerWriteFailures,
        eventFramesSent: fanOut.framesSent,
      };
    },
  };
}

function ignoreSocketError(): void {
  // A hostile or vanished peer during the upgrade; the socket is destroyed anyway.
}

export type { ConnectionState };
