/**
 * The real openclaw-node client (0.14, protocol 4, signed v2 device) against
 * Pincer: connect, chat() streaming to the end, history, abort, wrong token.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { REPLY_TEXT, startStack, WAIT_MS, type Stack } from './e2e-setup.js';

// The client warns about a token over ws://; on loopback in a test that is noise.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (rest[0] === 'InsecureTransportWarning') return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

// openclaw-node needs a global WebSocket; Node 20 has none.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
const { OpenClawClient } = await import('openclaw-node');
type Client = InstanceType<typeof OpenClawClient>;

let stack: Stack;
let identityDir: string;
const clients: Client[] = [];

before(async () => {
  stack = await startStack();
  identityDir = await mkdtemp(join(tmpdir(), 'pincer-openclaw-node-'));
});
after(async () => {
  for (const c of clients) await c.disconnect();
  await stack?.close();
  await rm(identityDir, { recursive: true, force: true });
});

function newClient(token = stack.token): Client {
  const client = new OpenClawClient({
    url: stack.wsUrl,
    token,
    autoReconnect: false,
    // Keep the client's device key out of the home directory.
    deviceIdentityPath: join(identityDir, `${randomUUID()}.json`),
  });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** Reject when `promise` takes longer than `ms`: a hang must fail the test. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('openclaw-node', () => {
  it('connects with protocol 4 and sees the implemented methods (item 36)', async () => {
    const client = newClient();
    const hello = (await within(client.connect(), WAIT_MS, 'connect()')) as { protocol: number; auth?: Record<string, unknown> };
    assert.equal(hello.protocol, 4);
    // Its device identity earns a device token (device-tokens.test.ts covers reuse).
    assert.equal(typeof hello.auth?.deviceToken, 'string');
    assert.equal(client.isConnected, true);
    for (const method of ['agent', 'agent.wait', 'chat.history', 'chat.abort', 'sessions.list']) assert.ok(client.hasMethod(method), method);
    const health = (await client.health()) as { ok: boolean };
    assert.equal(health.ok, true);
  });

  it('streams chat() to the end and reads the history (item 36)', async () => {
    const client = newClient();
    await within(client.connect(), WAIT_MS, 'connect()');
    const sessionKey = `node-${randomUUID()}`;
    const chunks: { type: string; text?: string }[] = [];
    await within(
      (async () => {
        for await (const chunk of client.chat('ping', { sessionKey })) chunks.push(chunk);
      })(),
      WAIT_MS,
      'chat()',
    );
    const text = chunks.filter((c) => c.type === 'text').map((c) => c.text).join('');
    assert.equal(text, REPLY_TEXT);
    assert.equal(chunks.filter((c) => c.type === 'error').length, 0);
    assert.ok(chunks.some((c) => c.type === 'agent_start'));
    assert.ok(chunks.some((c) => c.type === 'agent_end'));
    assert.equal(chunks.at(-1)?.type, 'done');

    const history = (await client.sessions.history(sessionKey)) as { sessionKey: string; messages: any[] };
    assert.equal(history.sessionKey, `agent:main:${sessionKey}`);
    assert.deepEqual(
      history.messages.map((m) => m.role),
      ['user', 'assistant'],
    );
    assert.deepEqual(history.messages[0].content, [{ type: 'text', text: 'ping' }]);
    assert.deepEqual(history.messages[1].content, [{ type: 'text', text: REPLY_TEXT }]);
    assert.equal(await client.chatSync('again', { sessionKey }), REPLY_TEXT);
  });

  it('aborts a running chat()', async () => {
    const client = newClient();
    await within(client.connect(), WAIT_MS, 'connect()');
    const sessionKey = `node-${randomUUID()}`;
    stack.fake.enqueue({ text: Array.from({ length: 40 }, (_, i) => `w${i} `), chunkDelayMs: 30 });
    let aborted: unknown;
    const chunks: string[] = [];
    await within(
      (async () => {
        for await (const chunk of client.chat('long story', { sessionKey })) {
          chunks.push(chunk.type);
          if (chunk.type === 'text' && aborted === undefined) aborted = await client.chatAbort(sessionKey);
        }
      })(),
      WAIT_MS,
      'aborted chat()',
    );
    assert.equal((aborted as { aborted: boolean }).aborted, true);
    assert.equal((aborted as { runIds: string[] }).runIds.length, 1);
    const runId = (aborted as { runIds: string[] }).runIds[0]!;
    const waited = (await client.agentWait(runId, { timeoutMs: 5000 })) as { status: string };
    assert.equal(waited.status, 'aborted');
    await stack.fake.waitFor((f) => f.stats.inFlight === 0, WAIT_MS);
  });

  it('rejects connect() with a wrong token instead of hanging', async () => {
    const client = newClient('wrong-token');
    await assert.rejects(within(client.connect(), WAIT_MS, 'connect() with a wrong token'), /closed before handshake/);
    assert.equal(client.isConnected, false);
  });
});
