/**
 * Issue 6, item 2: SIGTERM to the real gateway process with 10 runs in
 * flight. /ready turns 503 at once while /health stays 200; new work is
 * refused with a retryable UNAVAILABLE; runs finish (or are stored as
 * aborted) within the drain budget; clients get `shutdown`, then the close
 * code of protocol.md §8.6; the process exits 0 before the budget.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { SESSIONS_DIR_NAME } from '../../src/assistant.js';
import { FileSessionStore } from '../../src/sessions/file-session-store.js';
import type { StoredMessage } from '../../src/sessions/types.js';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { ProtocolClient, type AnyFrame } from '../helpers/protocol-client.js';
import { httpGet, makeTempHome } from '../helpers/spawn-cli.js';
import { startGatewayChild, type GatewayChild } from './gateway-process.js';

const RUNS = 10;
/** The default drain budget (config gateway.drainTimeoutMs), ms. */
const DEFAULT_DRAIN_MS = 10_000;
/** "At once": /ready must read 503 within this of the signal, ms. */
const READY_FLIP_MS = 500;
/** Every drain closes 1012, as OpenClaw does (protocol.md §9 item 50 allows 1001 or 1012). */
const SHUTDOWN_CLOSE_CODE = 1012;
const WAIT_MS = 15_000;

interface DrainScene {
  gateway: GatewayChild;
  runners: { client: ProtocolClient; runId: string; sessionKey: string }[];
  idle: ProtocolClient;
  /** Upgraded before the signal, connects after it. */
  late: ProtocolClient;
}

describe('graceful drain on SIGTERM with runs in flight', { timeout: 60_000 }, () => {
  let fake: FakeModelServer;
  let home: string;
  let stateDir: string;
  let scene: DrainScene | undefined;
  /** Everything a scene started, kept as it starts, so a scene whose set-up fails half-way leaves nothing running. */
  let started: { gateway?: GatewayChild; clients: ProtocolClient[] } = { clients: [] };

  before(async () => {
    fake = await startFakeModelServer();
    home = await makeTempHome();
  });
  after(async () => {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const client of started.clients) client.ws.terminate();
    started.gateway?.cli.kill();
    started = { clients: [] };
    scene = undefined;
    await rm(stateDir, { recursive: true, force: true });
    fake.reset();
  });

  async function startScene(drainTimeoutMs?: number): Promise<DrainScene> {
    stateDir = await mkdtemp(join(tmpdir(), 'pincer-drain-'));
    const gateway = await startGatewayChild({
      home,
      stateDir,
      modelUrl: fake.url,
      config: { agent: { maxConcurrentRuns: RUNS }, ...(drainTimeoutMs === undefined ? {} : { gateway: { drainTimeoutMs } }) },
    });
    started.gateway = gateway;
    const connect = async (): Promise<ProtocolClient> => {
      const client = await ProtocolClient.open(gateway.wsUrl);
      started.clients.push(client);
      const res = await client.connect({ token: gateway.token });
      assert.equal(res.ok, true);
      return client;
    };
    const runners = [];
    for (let i = 0; i < RUNS; i++) {
      const client = await connect();
      const sessionKey = `agent:main:drain-${i}`;
      const res = await client.request('chat.send', { sessionKey, message: `drain ${i}`, idempotencyKey: `drain-${i}` });
      assert.equal(res.ok, true);
      runners.push({ client, runId: res.payload.runId as string, sessionKey });
    }
    const idle = await connect();
    const late = await ProtocolClient.open(gateway.wsUrl);
    started.clients.push(late);
    await late.challenge();
    await fake.waitFor((server) => server.stats.inFlight === RUNS, WAIT_MS);
    scene = { gateway, runners, idle, late };
    return scene;
  }

  /** SIGTERM, then the checks that hold whatever the runs do: ready, health, refusals. Returns the signal time. */
  async function signalAndCheckRefusals(s: DrainScene): Promise<number> {
    const signalledAt = Date.now();
    s.gateway.cli.child.kill('SIGTERM');
    const flipMs = await msUntil503(`${s.gateway.url}/ready`, READY_FLIP_MS);
    assert.equal((await httpGet(`${s.gateway.url}/health`)).status, 200, '/health stays 200 while draining');

    const send = await s.idle.request('chat.send', { sessionKey: 'agent:main:late', message: 'too late', idempotencyKey: 'late-1' });
    assertRetryableUnavailable(send, 'chat.send');
    const agent = await s.idle.request('agent', { message: 'too late', idempotencyKey: 'late-2' });
    assertRetryableUnavailable(agent, 'agent');
    const connect = await s.late.connect({ token: s.gateway.token, waitForChallenge: false });
    assertRetryableUnavailable(connect, 'connect');
    await assert.rejects(ProtocolClient.open(s.gateway.wsUrl), (error: Error & { statusCode?: number }) => error.statusCode === 503);
    console.log(`graceful drain: /ready 503 ${flipMs} ms after SIGTERM`);
    return signalledAt;
  }

  it('lets 10 streaming runs finish, then says shutdown and closes every socket before exiting 0', async () => {
    fake.setDefault({ text: Array.from({ length: 20 }, (_, i) => `w${i} `), chunkDelayMs: 100 });
    const s = await startScene();
    const signalledAt = await signalAndCheckRefusals(s);

    const exit = await s.gateway.cli.waitForExit(DEFAULT_DRAIN_MS + 5_000);
    const exitMs = Date.now() - signalledAt;
    assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}\n${exit.stderr}`);
    assert.ok(exitMs < DEFAULT_DRAIN_MS, `exited ${exitMs} ms after SIGTERM (budget ${DEFAULT_DRAIN_MS} ms)`);
    for (const runner of s.runners) assertFinalThenShutdown(runner.client, runner.runId, 'final');
    assert.equal((await s.idle.waitClosed()).code, SHUTDOWN_CLOSE_CODE);
    assert.equal(fake.stats.completed, RUNS, 'every model stream ran to its end');

    const stored = await readSessions(stateDir, s.runners.map((r) => r.sessionKey));
    for (const [key, messages] of stored) {
      assert.deepEqual(messages.map((m) => [m.role, m.stopReason]), [['user', undefined], ['assistant', 'stop']], key);
    }
    console.log(`graceful drain: ${RUNS} runs finished, exit 0 after ${exitMs} ms (budget ${DEFAULT_DRAIN_MS} ms)`);
  });

  it('stores runs that outlast a short budget as aborted and still exits 0 within it', async () => {
    const budgetMs = 3_000;
    fake.setDefault({ text: Array.from({ length: 200 }, (_, i) => `w${i} `), chunkDelayMs: 100 });
    const s = await startScene(budgetMs);
    const signalledAt = await signalAndCheckRefusals(s);

    const exit = await s.gateway.cli.waitForExit(budgetMs + 5_000);
    const exitMs = Date.now() - signalledAt;
    assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}\n${exit.stderr}`);
    assert.ok(exitMs < budgetMs, `exited ${exitMs} ms after SIGTERM (budget ${budgetMs} ms)`);
    for (const runner of s.runners) assertFinalThenShutdown(runner.client, runner.runId, 'aborted');

    const stored = await readSessions(stateDir, s.runners.map((r) => r.sessionKey));
    for (const [key, messages] of stored) {
      assert.deepEqual(messages.map((m) => [m.role, m.stopReason]), [['user', undefined], ['assistant', 'aborted']], key);
      const text = messages[1]!.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      assert.match(text, /^w0 w1 /, `${key}: the partial reply is kept`);
    }
    console.log(`graceful drain: ${RUNS} runs aborted and stored, exit 0 after ${exitMs} ms (budget ${budgetMs} ms)`);
  });
});

function assertRetryableUnavailable(res: { ok: boolean; error?: { code: string; retryable?: boolean; retryAfterMs?: number } }, what: string): void {
  assert.equal(res.ok, false, `${what} accepted during the drain`);
  assert.equal(res.error?.code, 'UNAVAILABLE', what);
  assert.equal(res.error?.retryable, true, `${what} retryable`);
  assert.ok((res.error?.retryAfterMs ?? 0) > 0, `${what} retryAfterMs`);
}

/** The run's terminal chat event, then `shutdown`, then the close; nothing of the run after the shutdown. */
function assertFinalThenShutdown(client: ProtocolClient, runId: string, state: 'final' | 'aborted'): void {
  const frames = client.frames;
  const terminal = frames.findIndex((f: AnyFrame) => f.event === 'chat' && f.payload?.runId === runId && ['final', 'aborted', 'error'].includes(f.payload?.state));
  const shutdown = frames.findIndex((f: AnyFrame) => f.event === 'shutdown');
  assert.ok(terminal >= 0, `${runId}: no terminal chat event`);
  assert.equal(frames[terminal]!.payload.state, state, `${runId} ended ${frames[terminal]!.payload.state}`);
  assert.ok(shutdown > terminal, `${runId}: shutdown event must follow the run's end`);
  assert.equal(frames[shutdown]!.payload.reason, 'shutdown');
  assert.equal(shutdown, frames.length - 1, 'shutdown is the last frame');
  assert.equal(client.closeInfo?.code, SHUTDOWN_CLOSE_CODE);
}

/** Poll until the URL answers 503; returns how long it took, ms. */
async function msUntil503(url: string, limitMs: number): Promise<number> {
  const start = Date.now();
  for (let attempt = 0; attempt < 1_000 && Date.now() - start < limitMs; attempt++) {
    if ((await httpGet(url, limitMs)).status === 503) return Date.now() - start;
  }
  throw new Error(`${url} still not 503 after ${limitMs} ms`);
}

/** Messages of each session, read with the real store after the process exited. */
async function readSessions(stateDir: string, keys: string[]): Promise<Map<string, StoredMessage[]>> {
  const store = new FileSessionStore({ dir: join(stateDir, SESSIONS_DIR_NAME), logger: { warn: () => undefined } });
  await store.open();
  try {
    const out = new Map<string, StoredMessage[]>();
    for (const key of keys) out.set(key, (await store.history(key, { limit: 100 })).messages);
    return out;
  } finally {
    await store.close();
  }
}
