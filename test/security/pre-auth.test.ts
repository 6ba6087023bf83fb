/**
 * Nothing before auth, and the pre-auth bounds (protocol.md §8.1), against
 * the real gateway with a fake model: requests before `connect` close 1008
 * and do nothing, unauthenticated sockets see no events, an oversized first
 * frame closes 1009 before parsing, a silent socket times out, and pending
 * sockets are capped per IP while a legitimate client still connects.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Socket } from 'node:net';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { encodeClientFrame, parseClosePayload, rawUpgrade, readServerFrames } from '../helpers/raw-upgrade.js';
import { startStack, waitTerminal, type Stack } from '../channels/openclaw/e2e-setup.js';

const HANDSHAKE_TIMEOUT_MS = 1_000;
const PRE_AUTH_MAX_BYTES = 64 * 1024;
const MAX_PENDING_PER_IP = 16;
const RANDOM_METHODS = 100;
const CONCURRENCY = 8;
const WAIT_MS = 5_000;

let stack: Stack;
const sockets: Socket[] = [];
const clients: ProtocolClient[] = [];

before(async () => {
  stack = await startStack({ gateway: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS } });
});
after(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(clients.map((client) => client.close()));
  await stack.close();
});

async function open(options: Parameters<typeof ProtocolClient.open>[1] = {}): Promise<ProtocolClient> {
  const client = await ProtocolClient.open(stack.wsUrl, options);
  clients.push(client);
  return client;
}

/** Every file under `dir` (relative paths), for "no side effects" checks. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1)).sort();
}

/** Params that would do real work if a handler ever ran. */
function workParams(method: string): Record<string, unknown> {
  const sessionKey = `agent:main:preauth-${method.replace(/[^a-z]/gi, '')}`;
  return { sessionKey, key: sessionKey, message: 'run something', idempotencyKey: randomUUID(), label: 'x', limit: 10 };
}

describe('nothing before auth', () => {
  it('closes 1008 for every registered method and 100 random names, with no session files and no runs', async () => {
    const probe = await stack.client();
    const hello = probe.frames.find((frame) => frame.type === 'res' && frame.ok)?.payload;
    const registered: string[] = hello?.features?.methods ?? [];
    assert.ok(registered.includes('chat.send') && registered.includes('sessions.patch'), 'the method list is real');
    await probe.close();

    const before = await listFiles(stack.gateway.stateDir);
    const random = fc.sample(fc.string({ minLength: 1, maxLength: 40 }), { numRuns: RANDOM_METHODS, seed: 7 });
    const methods = [...registered, ...random, '__proto__', 'constructor', 'connect.challenge', 'CONNECT'];
    const failures: string[] = [];
    for (let start = 0; start < methods.length; start += CONCURRENCY) {
      await Promise.all(
        methods.slice(start, start + CONCURRENCY).map(async (method) => {
          const client = await open();
          const res = await client.request(method, workParams(method));
          const closed = await client.waitClosed(WAIT_MS);
          const ok = res.ok === false && res.error?.message === 'invalid handshake: first request must be connect' && closed.code === 1008;
          if (!ok) failures.push(`${JSON.stringify(method)}: ${JSON.stringify(res)} ${closed.code}`);
          const unexpected = client.frames.filter((frame) => frame.type === 'event' && frame.event !== 'connect.challenge');
          if (unexpected.length > 0) failures.push(`${JSON.stringify(method)}: got ${JSON.stringify(unexpected)}`);
        }),
      );
    }
    assert.deepEqual(failures, []);
    assert.equal(stack.fake.requests.length, 0, 'no run reached the model');
    assert.deepEqual(await listFiles(stack.gateway.stateDir), before, 'no file was written');
    const list = await (await stack.client()).request('sessions.list', {});
    assert.deepEqual(list.payload.sessions, []);
  });

  it('sends 0 event bytes but the challenge to an unauthenticated socket while another client chats', async () => {
    const watchers = await Promise.all([open(), open()]);
    const challenges = await Promise.all(watchers.map((watcher) => watcher.challenge()));
    const challengeBytes = watchers.map((watcher) => watcher.eventBytes);
    const chatter = await stack.client();
    await chatter.request('sessions.subscribe', {});
    const sent = await chatter.request('chat.send', { sessionKey: 'main', message: 'hello', idempotencyKey: randomUUID() });
    assert.equal(sent.ok, true);
    const terminal = await waitTerminal(chatter, sent.payload.runId);
    assert.equal(terminal.payload.state, 'final');
    assert.ok(chatter.events.length > 3, 'the chatting client saw the run');
    for (const [i, watcher] of watchers.entries()) {
      assert.equal(watcher.eventBytes, challengeBytes[i], 'no event bytes after the challenge');
      assert.deepEqual(watcher.frames.map((frame) => frame.event), ['connect.challenge']);
      assert.ok(challenges[i]!.nonce);
    }
  });
});

describe('pre-auth bounds', () => {
  it('closes 1009 on a first frame over 64 KiB before parsing it, even a valid connect', async () => {
    const client = await open();
    const { nonce } = await client.challenge();
    const params = client.buildConnectParams({ token: stack.token }, nonce);
    const frame = (padding: number) => JSON.stringify({ type: 'req', id: 'big', method: 'connect', params: { ...params, pad: 'p'.repeat(padding) } });
    const base = Buffer.byteLength(frame(0));
    client.sendRaw(frame(PRE_AUTH_MAX_BYTES + 1 - base));
    assert.deepEqual(await client.waitClosed(WAIT_MS), { code: 1009, reason: 'payload too large' });
    assert.equal(client.frames.filter((f) => f.type === 'res').length, 0, 'no res: the frame was never parsed');

    // The same connect at exactly 64 KiB is read and accepted.
    const fits = await open();
    const fitsNonce = (await fits.challenge()).nonce;
    const fitsParams = fits.buildConnectParams({ token: stack.token }, fitsNonce);
    const fitsFrame = (padding: number) => JSON.stringify({ type: 'req', id: 'fits', method: 'connect', params: { ...fitsParams, pad: 'p'.repeat(padding) } });
    const text = fitsFrame(PRE_AUTH_MAX_BYTES - Buffer.byteLength(fitsFrame(0)));
    assert.equal(Buffer.byteLength(text), PRE_AUTH_MAX_BYTES);
    fits.sendRaw(text);
    const res = await fits.waitFor((f) => f.type === 'res' && f.id === 'fits');
    assert.equal(res.ok, true);
  });

  it('closes 1009 while a huge first frame is still arriving, without waiting for the rest', async () => {
    const upgrade = await rawUpgrade(stack.gateway.port, {});
    assert.equal(upgrade.status, 101);
    const socket = upgrade.socket!;
    sockets.push(socket);
    const declared = Buffer.alloc(16 * 1024 * 1024, 0x20);
    const frame = encodeClientFrame(declared);
    // Send only the header and the first 128 KiB of a 16 MiB frame.
    socket.write(frame.subarray(0, 14 + 128 * 1024));
    const frames = await readServerFrames(socket, 2, WAIT_MS, upgrade.head === undefined ? undefined : Buffer.from(upgrade.head));
    const close = frames.find((f) => f.opcode === 0x8);
    assert.ok(close, 'a close frame arrived');
    assert.equal(parseClosePayload(close.payload).code, 1009);
  });

  it('closes a silent unauthenticated socket with 1008 after the configured timeout', async () => {
    const started = Date.now();
    const client = await open();
    await client.challenge();
    const closed = await client.waitClosed(HANDSHAKE_TIMEOUT_MS + WAIT_MS);
    const elapsed = Date.now() - started;
    assert.deepEqual(closed, { code: 1008, reason: 'handshake timeout' });
    assert.ok(elapsed >= HANDSHAKE_TIMEOUT_MS - 50, `closed after ${elapsed} ms`);
  });

  it('caps unauthenticated sockets per IP while a legitimate client from another IP connects', async () => {
    const hostile = '127.0.0.2';
    const pending: Socket[] = [];
    for (let i = 0; i < MAX_PENDING_PER_IP; i++) {
      const result = await rawUpgrade(stack.gateway.port, {}, 3_000, hostile);
      assert.equal(result.status, 101, `pending socket ${i + 1}`);
      pending.push(result.socket!);
      sockets.push(result.socket!);
    }
    for (let i = 0; i < 4; i++) {
      assert.equal((await rawUpgrade(stack.gateway.port, {}, 3_000, hostile)).status, 503, 'extra upgrades are refused');
    }
    const legit = await stack.client();
    assert.equal(legit.closeInfo, undefined);
    assert.equal((await legit.request('health', {})).ok, true);

    // Freeing a slot lets the next socket from that IP in.
    pending[0]!.destroy();
    let status = 0;
    for (let i = 0; i < 50 && status !== 101; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const result = await rawUpgrade(stack.gateway.port, {}, 3_000, hostile);
      status = result.status;
      if (result.socket) sockets.push(result.socket);
    }
    assert.equal(status, 101);
  });
});
