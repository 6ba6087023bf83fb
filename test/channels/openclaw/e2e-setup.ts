/**
 * Shared set-up of the OpenClaw method end-to-end tests: a fake model server,
 * a real gateway using it as provider, and authenticated protocol clients.
 */

import { randomUUID } from 'node:crypto';
import { startFakeModelServer, type FakeModelServer } from '../../helpers/fake-model-server.js';
import { ProtocolClient, type AnyFrame, type ConnectOptions, type EventFrame, type ResFrame } from '../../helpers/protocol-client.js';
import { startGateway, type StartGatewayOptions, type StartedGateway } from '../../helpers/start-gateway.js';

/** Bound of every wait in these tests, ms. */
export const WAIT_MS = 5_000;
/** The fake model's reply, chunk by chunk. */
export const REPLY_CHUNKS = ['Hello', ' from the', ' fake model.', ' This is', ' a fixed', ' streamed reply.'];
export const REPLY_TEXT = REPLY_CHUNKS.join('');

export interface Stack {
  gateway: StartedGateway;
  fake: FakeModelServer;
  wsUrl: string;
  token: string;
  /** Open a socket and connect (token auth, admin scopes unless told otherwise). */
  client(options?: ConnectOptions): Promise<ProtocolClient>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Gateway config overrides merged over the provider settings. */
  gateway?: Record<string, unknown>;
}

/** Start the fake model and a gateway pointed at it. Call close() in an after hook. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const fake = await startFakeModelServer({ defaultReply: { text: REPLY_CHUNKS } });
  let gateway: StartedGateway;
  try {
    gateway = await startGateway({
      overrides: {
        provider: { kind: 'openai', baseUrl: fake.url, apiKey: 'test-key', model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 },
        ...(options.gateway === undefined ? {} : { gateway: options.gateway }),
      } as never,
    });
  } catch (error) {
    await fake.close();
    throw error;
  }
  const clients = new Set<ProtocolClient>();
  return {
    gateway,
    fake,
    wsUrl: gateway.wsUrl,
    token: gateway.token,
    async client(connect = {}) {
      const client = await ProtocolClient.open(gateway.wsUrl);
      clients.add(client);
      const res = await client.connect({ token: gateway.token, ...connect });
      if (!res.ok) throw new Error(`connect failed: ${JSON.stringify(res.error)}`);
      return client;
    },
    async close() {
      await Promise.all([...clients].map((c) => c.close()));
      await gateway.close();
      await fake.close();
    },
  };
}

/** A gateway with one authenticated client, for tests that stop and start it again on the same state dir. */
export async function startConnectedGateway(options: StartGatewayOptions): Promise<{ gateway: StartedGateway; client: ProtocolClient }> {
  const gateway = await startGateway(options);
  const client = await ProtocolClient.open(gateway.wsUrl);
  okPayload(await client.connect({ token: gateway.token }));
  return { gateway, client };
}

/** Close what startConnectedGateway opened (either may be absent after a failed start). */
export async function stopConnectedGateway(started: { gateway?: StartedGateway; client?: ProtocolClient }): Promise<void> {
  await started.client?.close();
  await started.gateway?.close();
}

/** The payload of an ok res; fails the test with the error otherwise. */
export function okPayload(res: ResFrame): any {
  if (!res.ok) throw new Error(`expected ok res, got ${JSON.stringify(res.error)}`);
  return res.payload;
}

/** Events of one run (chat and agent), in arrival order. */
export function runEvents(client: ProtocolClient, runId: string): EventFrame[] {
  return client.events.filter((e) => (e.event === 'chat' || e.event === 'agent') && e.payload?.runId === runId);
}

/** Resolve with the run's terminal chat event (final, aborted or error). */
export async function waitTerminal(client: ProtocolClient, runId: string, timeoutMs = WAIT_MS): Promise<EventFrame> {
  const frame = await client.waitFor(
    (f) => isChat(f) && f.payload?.runId === runId && ['final', 'aborted', 'error'].includes(f.payload?.state),
    timeoutMs,
    `terminal chat event of ${runId}`,
  );
  return frame as EventFrame;
}

/** chat.send with a fresh idempotency key; resolves with the run's terminal chat payload, whatever its state. */
export async function sendTurn(client: ProtocolClient, sessionKey: string, message: string, timeoutMs = WAIT_MS): Promise<any> {
  const runId = randomUUID();
  okPayload(await client.request('chat.send', { sessionKey, message, idempotencyKey: runId }));
  return (await waitTerminal(client, runId, timeoutMs)).payload;
}

/** chat.send with a fresh (or the given) idempotency key, then wait for a `final`; resolves with the runId. */
export async function sendAndFinish(client: ProtocolClient, sessionKey: string, message: string, runId: string = randomUUID()): Promise<string> {
  okPayload(await client.request('chat.send', { sessionKey, message, idempotencyKey: runId }));
  const terminal = await waitTerminal(client, runId);
  if (terminal.payload?.state !== 'final') throw new Error(`run ${runId} ended ${terminal.payload?.state}`);
  return runId;
}

/** Wait a little so stray frames (which must not come) have a chance to arrive. */
export function settle(ms = 100): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isChat(frame: AnyFrame): frame is EventFrame {
  return frame.type === 'event' && (frame as EventFrame).event === 'chat';
}
