/**
 * Runs the OpenClaw channel alone on a plain http server (127.0.0.1, port 0)
 * with a real event bus, an in-test method table and a tiny event mapper, so
 * channel tests need neither the agent nor the session store.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentEvent } from '../../src/agent/types.js';
import type { OutboundBus } from '../../src/bus/types.js';
import { createEventBus } from '../../src/bus/event-bus.js';
import { createOpenClawChannel, type OpenClawChannel, type OpenClawChannelOptions } from '../../src/channels/openclaw/channel.js';
import { silentLogger, type ChannelLogger } from '../../src/channels/openclaw/channel-logger.js';
import type { MethodTable, WireEvent } from '../../src/channels/openclaw/method-types.js';
import type { AuthRateLimiter } from '../../src/security/auth-rate-limiter.js';
import type { AuthSecret } from '../../src/security/secret-compare.js';
import { ProtocolClient, type OpenOptions } from './protocol-client.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export interface HarnessOptions {
  options?: Partial<OpenClawChannelOptions>;
  methods?: MethodTable;
  /** Mutable: tests may swap the secret between connects. */
  secret?: AuthSecret | undefined;
  mapEvent?: (event: AgentEvent) => WireEvent[];
  authLimiter?: AuthRateLimiter;
  logger?: ChannelLogger;
}

export interface Harness {
  url: string;
  port: number;
  channel: OpenClawChannel;
  bus: OutboundBus<AgentEvent>;
  server: Server;
  /** Current secret; assign to rotate. */
  auth: { secret: AuthSecret | undefined };
  draining: { value: boolean };
  clients: ProtocolClient[];
  /** Open a client (closed automatically by close()). */
  open(options?: OpenOptions): Promise<ProtocolClient>;
  /** Open and connect with the test token; asserts nothing. */
  connected(connect?: Parameters<ProtocolClient['connect']>[0], open?: OpenOptions): Promise<ProtocolClient>;
  close(): Promise<void>;
}

/** Maps text deltas to `chat`, session messages to `session.message`, changes to `sessions.changed`. */
export function testMapEvent(event: AgentEvent): WireEvent[] {
  switch (event.type) {
    case 'text.delta':
      return [
        {
          event: 'chat',
          audience: 'read',
          sessionKey: event.sessionKey,
          payload: { runId: event.runId, sessionKey: event.sessionKey, state: 'delta', deltaText: event.delta },
        },
      ];
    case 'session.message':
      return [{ event: 'session.message', audience: 'session-messages', sessionKey: event.sessionKey, payload: { sessionKey: event.sessionKey, message: event.message } }];
    case 'session.changed':
      return [{ event: 'sessions.changed', audience: 'sessions', sessionKey: event.sessionKey, payload: { sessionKey: event.sessionKey, reason: event.reason } }];
    default:
      return [];
  }
}

/** A text.delta bus event for tests. */
export function deltaEvent(sessionKey: string, delta: string, runId = 'run-1'): AgentEvent {
  return { type: 'text.delta', runId, sessionKey, seq: 2, delta, text: delta, itemIndex: 1, reply: { text: delta, toolCalls: [] } };
}

export async function startHarness(config: HarnessOptions = {}): Promise<Harness> {
  const bus = createEventBus<AgentEvent>();
  const auth = { secret: 'secret' in config ? config.secret : ({ mode: 'token', secret: TEST_TOKEN } as AuthSecret) };
  const draining = { value: false };
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const channel = createOpenClawChannel({
    getAuthSecret: () => auth.secret,
    methods: config.methods ?? {},
    bus,
    mapEvent: config.mapEvent ?? testMapEvent,
    isDraining: () => draining.value,
    logger: config.logger ?? silentLogger,
    authLimiter: config.authLimiter,
    options: {
      maxPayloadBytes: 4 * 1024 * 1024,
      maxBufferedBytes: 8 * 1024 * 1024,
      tickIntervalMs: 30_000,
      handshakeTimeoutMs: 10_000,
      allowedOrigins: [],
      allowedHosts: [],
      port,
      version: '0.0.0-test',
      ...config.options,
    },
  });
  server.on('upgrade', (req, socket, head) => channel.handleUpgrade(req, socket, head));
  const url = `ws://127.0.0.1:${port}/`;
  const clients: ProtocolClient[] = [];

  const harness: Harness = {
    url,
    port,
    channel,
    bus,
    server,
    auth,
    draining,
    clients,
    async open(options) {
      const client = await ProtocolClient.open(url, options);
      clients.push(client);
      return client;
    },
    async connected(connect, open) {
      const client = await harness.open(open);
      const res = await client.connect({ token: TEST_TOKEN, ...connect });
      if (!res.ok) throw new Error(`connect failed: ${res.error?.message}`);
      return client;
    },
    async close() {
      await Promise.all(clients.map((client) => client.close(1000, 1000)));
      await channel.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return harness;
}

/** Resolve after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `check` until it returns true or the deadline passes (then throw). */
export async function waitUntil(check: () => boolean, timeoutMs = 5000, label = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await delay(5);
  }
}
