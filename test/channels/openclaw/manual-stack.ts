/** TEMPORARY: wires the stack by hand until main.ts does. Same shape as StartedGateway. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSessionStore } from '../../../src/sessions/file-session-store.js';
import { createEventBus } from '../../../src/bus/event-bus.js';
import { createProvider } from '../../../src/providers/create-provider.js';
import { createAgentService } from '../../../src/agent/agent-service.js';
import type { AgentEvent } from '../../../src/agent/types.js';
import { createOpenClawChannel } from '../../../src/channels/openclaw/channel.js';
import { silentLogger } from '../../../src/channels/openclaw/channel-logger.js';
import { createEventMapper } from '../../../src/channels/openclaw/event-mapper.js';
import { createSessionMethods } from '../../../src/channels/openclaw/methods/sessions.js';
import { createChatMethods } from '../../../src/channels/openclaw/methods/chat.js';
import { createAgentMethods } from '../../../src/channels/openclaw/methods/agent.js';
import { createSystemMethods } from '../../../src/channels/openclaw/methods/system.js';
import { canonicalizeSessionKey } from '../../../src/sessions/session-key.js';

export async function startManual(baseUrl: string, gatewayOverrides: Record<string, any> = {}) {
  const stateDir = await mkdtemp(join(tmpdir(), 'pincer-manual-'));
  const store = new FileSessionStore({ dir: join(stateDir, 'sessions'), logger: { warn() {} } as any });
  await store.open();
  const bus = createEventBus<AgentEvent>();
  const provider = createProvider({ kind: 'openai', baseUrl, apiKey: 'k', model: 'fake-model', timeoutMs: 10000, maxRetries: 0 });
  const agent = createAgentService({ store, bus, provider, options: { maxConcurrentRuns: 8, maxMessageChars: 100000, historyLimit: 200 } });
  const canonicalize = (raw: string) => canonicalizeSessionKey(raw, { agentIds: ['main'] });
  const defaults = { model: 'fake-model', provider: 'openai', contextTokens: 128000 };
  const maxPayloadBytes = gatewayOverrides.maxPayloadBytes ?? 4194304;
  const methods = {
    ...createSystemMethods({ version: '0.1.0', startedAt: Date.now(), listSessions: () => store.list(), model: () => ({ provider: 'openai', model: 'fake-model' }), config: () => ({}) }),
    ...createSessionMethods({ store, agent, canonicalize, defaults, bus }),
    ...createChatMethods({ store, agent, canonicalize, bus, maxPayloadBytes }),
    ...createAgentMethods({ store, agent, canonicalize }),
  };
  const token = 'manual-token-0123456789';
  const server = createServer((_req, res) => { res.statusCode = 404; res.end(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const channel = createOpenClawChannel({
    getAuthSecret: () => ({ mode: 'token', secret: token }),
    methods,
    bus,
    mapEvent: createEventMapper({ lookupSession: (k) => store.get(k), defaults }),
    isDraining: () => false,
    logger: silentLogger,
    options: { maxPayloadBytes, maxBufferedBytes: 8388608, tickIntervalMs: 30000, handshakeTimeoutMs: 10000, allowedOrigins: [], allowedHosts: [], port, version: '0.1.0' },
  });
  server.on('upgrade', (req, socket, head) => channel.handleUpgrade(req, socket, head));
  return {
    wsUrl: `ws://127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    port,
    token,
    stateDir,
    pincer: { agent, store, channel } as any,
    async close() {
      await agent.drain(1000);
      await channel.close();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections?.();
      await store.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
