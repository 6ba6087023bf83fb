import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import type { MethodTable } from '../../../src/channels/openclaw/method-types.js';
import { startHarness, TEST_TOKEN, waitUntil, type Harness } from '../../helpers/openclaw-channel-harness.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { rawUpgrade, readServerFrames, encodeClientFrame, parseClosePayload } from '../../helpers/raw-upgrade.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function tableWithCounter(names: string[]): { methods: MethodTable; calls: { count: number } } {
  const calls = { count: 0 };
  const methods: MethodTable = {};
  for (const name of names) {
    methods[name] = {
      params: v.object({}),
      scope: 'operator.read',
      handler: () => {
        calls.count++;
        return { ok: true };
      },
    };
  }
  return { methods, calls };
}

/** Every string value in a JSON tree. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) strings(item, out);
  return out;
}

const METHOD_NAMES = ['health', 'status', 'sessions.list', 'chat.send', 'agent', 'config.get'];

describe('connect.challenge', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('arrives after the 101, in its own packet, with nonce and ts and no seq', async () => {
    const res = await rawUpgrade(h.port);
    assert.equal(res.status, 101);
    assert.equal(res.head?.length, 0, 'challenge must not share the read with the 101');
    const frames = await readServerFrames(res.socket!, 1);
    const elapsed = Date.now() - res.at;
    res.socket!.destroy();
    assert.equal(frames.length, 1);
    assert.ok(elapsed >= 10, `challenge came ${elapsed} ms after the 101`);
    const frame = JSON.parse(frames[0]!.payload.toString('utf8'));
    assert.equal(frame.type, 'event');
    assert.equal(frame.event, 'connect.challenge');
    assert.match(frame.payload.nonce, UUID);
    assert.equal(typeof frame.payload.ts, 'number');
    assert.deepEqual(frame.payload.capabilities, []);
    assert.equal('seq' in frame, false);
  });

  it('gives every socket its own nonce', async () => {
    const a = await h.open();
    const b = await h.open();
    const [na, nb] = await Promise.all([a.challenge(), b.challenge()]);
    assert.notEqual(na.nonce, nb.nonce);
  });
});

describe('connect', () => {
  let h: Harness;
  const { methods } = tableWithCounter(METHOD_NAMES);
  before(async () => {
    h = await startHarness({ methods });
  });
  after(() => h.close());

  it('accepts protocol 3 sent without waiting for the challenge (WebClaw-style)', async () => {
    const client = await h.open();
    const res = await client.connect({
      token: TEST_TOKEN,
      waitForChallenge: false,
      maxProtocol: 3,
      client: { id: 'gateway-client', mode: 'ui' },
      scopes: ['operator.admin'],
    });
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.equal(res.payload.type, 'hello-ok');
    assert.equal(res.payload.protocol, 3);
    // The challenge still went out first.
    assert.equal(client.frames[0]!.event, 'connect.challenge');
  });

  it('answers hello-ok exactly per protocol.md §2.4', async () => {
    const client = await h.open();
    const res = await client.connect({ token: TEST_TOKEN, scopes: ['operator.read', 'operator.write', 'operator.pairing'] });
    assert.equal(res.ok, true);
    const hello = res.payload;
    assert.equal(hello.protocol, 4);
    assert.equal(hello.server.version, '0.0.0-test');
    assert.match(hello.server.connId, UUID);
    assert.deepEqual([...hello.features.methods].sort(), [...METHOD_NAMES].sort());
    assert.ok(!hello.features.methods.includes('connect'));
    for (const event of ['connect.challenge', 'chat', 'agent', 'tick', 'sessions.changed', 'session.message', 'shutdown']) {
      assert.ok(hello.features.events.includes(event), event);
    }
    assert.deepEqual(hello.policy, { maxPayload: 4 * 1024 * 1024, maxBufferedBytes: 8 * 1024 * 1024, tickIntervalMs: 30_000 });
    assert.deepEqual(hello.auth, { method: 'token', role: 'operator', scopes: ['operator.read', 'operator.write'] });
    assert.equal(hello.snapshot.authMode, 'token');
    assert.equal(hello.snapshot.sessionDefaults.mainSessionKey, 'agent:main:main');
    assert.equal(typeof hello.snapshot.uptimeMs, 'number');
    assert.ok(!strings(hello).some((s) => s.startsWith('/') || /^[A-Za-z]:\\/.test(s)), 'no filesystem paths');
    assert.equal(JSON.stringify(hello).includes('deviceToken'), false);
  });

  it('grants an empty scope set when none is requested', async () => {
    const client = await h.open();
    const res = await client.connect({ token: TEST_TOKEN, scopes: [] });
    assert.deepEqual(res.payload.auth.scopes, []);
    const denied = await client.request('health');
    assert.equal(denied.error?.code, 'FORBIDDEN');
    assert.equal(denied.error?.message, 'missing scope: operator.read');
  });

  it('refuses a protocol range without 3 or 4 with 1002', async () => {
    const client = await h.open();
    const res = await client.connect({ token: TEST_TOKEN, minProtocol: 1, maxProtocol: 2 });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.equal(res.error?.message, 'protocol mismatch');
    assert.equal(res.error?.details.code, 'PROTOCOL_MISMATCH');
    assert.equal(res.error?.details.clientMinProtocol, 1);
    assert.equal(res.error?.details.clientMaxProtocol, 2);
    assert.equal(res.error?.details.expectedProtocol, 4);
    const closed = await client.waitClosed();
    assert.deepEqual(closed, { code: 1002, reason: 'protocol mismatch' });
  });

  it('refuses a wrong token: error res first, then 1008 with the message as reason', async () => {
    const client = await h.open();
    const order: string[] = [];
    client.ws.on('message', () => order.push('message'));
    client.ws.on('close', () => order.push('close'));
    const res = await client.connect({ token: 'wrong-token' });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.match(res.error!.message, /^unauthorized: gateway token mismatch .*auth\.token/, 'names Pincer\'s own key');
    assert.doesNotMatch(res.error!.message, /pair/i, 'Pincer has no pairing to suggest');
    assert.deepEqual(res.error?.details, {
      code: 'AUTH_TOKEN_MISMATCH',
      authReason: 'token_mismatch',
      canRetryWithDeviceToken: false,
      recommendedNextStep: 'update_auth_credentials',
    });
    const closed = await client.waitClosed();
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, res.error!.message);
    assert.equal(order.at(-1), 'close');
  });

  it('refuses a missing token with 1008', async () => {
    const client = await h.open();
    const res = await client.connect({});
    assert.equal(res.error?.details.code, 'AUTH_TOKEN_MISSING');
    assert.equal((await client.waitClosed()).code, 1008);
  });

  it('refuses a role other than operator', async () => {
    const client = await h.open();
    const res = await client.connect({ token: TEST_TOKEN, role: 'node' });
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.equal((await client.waitClosed()).code, 1008);
  });

  it('refuses malformed connect params with 1008', async () => {
    const client = await h.open();
    await client.challenge();
    const res = await client.request('connect', { minProtocol: 4, maxProtocol: 4 });
    assert.equal(res.error?.message, "invalid connect params: must have required property 'client'");
    assert.equal((await client.waitClosed()).code, 1008);
  });

  it('answers a second connect with "already connected" and stays open', async () => {
    const client = await h.connected();
    const again = await client.connect({ token: TEST_TOKEN });
    assert.equal(again.ok, false);
    assert.equal(again.error?.message, 'already connected');
    const health = await client.request('health');
    assert.equal(health.ok, true);
  });
});

describe('credentials', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('checks a password in password mode', async () => {
    h.auth.secret = { mode: 'password', secret: 'pw-123456' };
    try {
      const good = await (await h.open()).connect({ password: 'pw-123456' });
      assert.equal(good.ok, true);
      assert.equal(good.payload.auth.method, 'password');
      const bad = await (await h.open()).connect({ password: 'nope' });
      assert.equal(bad.error?.details.code, 'AUTH_PASSWORD_MISMATCH');
      // A token is not a password.
      const token = await (await h.open()).connect({ token: 'pw-123456' });
      assert.equal(token.error?.details.code, 'AUTH_PASSWORD_MISSING');
    } finally {
      h.auth.secret = { mode: 'token', secret: TEST_TOKEN };
    }
  });

  it('resolves the secret per connect, so a rotated token fails at once', async () => {
    const before = await (await h.open()).connect({ token: TEST_TOKEN });
    assert.equal(before.ok, true);
    h.auth.secret = { mode: 'token', secret: 'rotated-token-abcdef' };
    try {
      const old = await (await h.open()).connect({ token: TEST_TOKEN });
      assert.equal(old.error?.details.code, 'AUTH_TOKEN_MISMATCH');
      const fresh = await (await h.open()).connect({ token: 'rotated-token-abcdef' });
      assert.equal(fresh.ok, true);
    } finally {
      h.auth.secret = { mode: 'token', secret: TEST_TOKEN };
    }
  });

  it('refuses everyone when no secret is configured', async () => {
    h.auth.secret = undefined;
    try {
      const client = await h.open();
      const res = await client.connect({ token: TEST_TOKEN });
      assert.equal(res.error?.details.code, 'AUTH_NOT_CONFIGURED');
      assert.equal((await client.waitClosed()).code, 1008);
    } finally {
      h.auth.secret = { mode: 'token', secret: TEST_TOKEN };
    }
  });

  it('takes the token from Authorization: Bearer, and the client still sends connect', async () => {
    const client = await h.open({ headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
    const res = await client.connect({});
    assert.equal(res.ok, true);
    const wrong = await h.open({ headers: { Authorization: 'Bearer not-it' } });
    const refused = await wrong.connect({});
    assert.equal(refused.error?.details.code, 'AUTH_TOKEN_MISMATCH');
  });

  it('takes the token from an openclaw.token.<token> subprotocol and never echoes it', async () => {
    const client = await h.open({ protocols: [`openclaw.token.${TEST_TOKEN}`, 'openclaw'] });
    assert.equal(client.ws.protocol, 'openclaw');
    const res = await client.connect({});
    assert.equal(res.ok, true);
  });

  it('keeps the socket waiting for connect even with a valid upgrade token', async () => {
    const client = await h.open({ headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
    await client.challenge();
    const res = await client.request('health');
    assert.equal(res.error?.message, 'invalid handshake: first request must be connect');
    assert.equal((await client.waitClosed()).code, 1008);
  });

  it('locks a key out after 10 wrong tokens, even for the right token', async () => {
    const locked = await startHarness();
    try {
      for (let i = 0; i < 10; i++) {
        const res = await (await locked.open()).connect({ token: `wrong-${i}`, extra: { auth: { token: `wrong-${i}`, deviceToken: 'x' } } });
        assert.equal(res.error?.details.code, 'AUTH_TOKEN_MISMATCH');
      }
      const client = await locked.open();
      const res = await client.connect({ token: TEST_TOKEN });
      assert.equal(res.error?.details.code, 'AUTH_RATE_LIMITED');
      assert.equal(res.error?.retryable, true);
      assert.ok((res.error?.retryAfterMs ?? 0) > 0);
      assert.equal((await client.waitClosed()).code, 1008);
    } finally {
      await locked.close();
    }
  });

  it('refuses connects while draining with a retryable UNAVAILABLE and 1013', async () => {
    h.draining.value = true;
    try {
      const client = await h.open();
      const res = await client.connect({ token: TEST_TOKEN });
      assert.equal(res.error?.code, 'UNAVAILABLE');
      assert.equal(res.error?.retryable, true);
      assert.ok((res.error?.retryAfterMs ?? 0) > 0);
      assert.equal((await client.waitClosed()).code, 1013);
    } finally {
      h.draining.value = false;
    }
  });
});

describe('before authentication', () => {
  let h: Harness;
  const { methods, calls } = tableWithCounter(METHOD_NAMES);
  before(async () => {
    h = await startHarness({ methods, options: { maxPendingPerIp: 256 } });
  });
  after(() => h.close());

  it('answers any other request with the handshake error, then closes 1008', async () => {
    const client = await h.open();
    await client.challenge();
    const res = await client.request('health', {});
    assert.deepEqual(res.error, { code: 'INVALID_REQUEST', message: 'invalid handshake: first request must be connect' });
    assert.deepEqual(await client.waitClosed(), { code: 1008, reason: 'invalid handshake: first request must be connect' });
  });

  it('closes 1008 for every method name and 100 random ones, with no side effects', async () => {
    const names = [...METHOD_NAMES, 'connect.challenge', 'sessions.patch'];
    for (let i = 0; i < 100; i++) names.push(`m${i}.${Math.random().toString(36).slice(2)}`);
    const codes = await Promise.all(
      names.map(async (name) => {
        const client = await ProtocolClient.open(h.url);
        client.sendRaw(JSON.stringify({ type: 'req', id: `x-${name}`, method: name, params: { sessionKey: 'main', message: 'hi' } }));
        const closed = await client.waitClosed();
        return closed.code;
      }),
    );
    assert.deepEqual(new Set(codes), new Set([1008]));
    assert.equal(calls.count, 0);
  });

  it('closes 1008 on an unparsable first frame', async () => {
    const client = await h.open();
    client.sendRaw('{not json');
    assert.equal((await client.waitClosed()).code, 1008);
  });

  it('closes 1009 on a 65 KiB first frame, before parsing it', async () => {
    const client = await h.open();
    client.sendRaw(`{"type":"req","id":"big","method":"connect","params":{"pad":"${'x'.repeat(65 * 1024)}"}}`);
    const closed = await client.waitClosed();
    assert.equal(closed.code, 1009);
    assert.equal(client.frames.some((f) => f.type === 'res'), false);
  });

  it('closes 1003 on a binary frame', async () => {
    const client = await h.open();
    client.sendRaw(Buffer.from('{"type":"req"}'), true);
    assert.equal((await client.waitClosed()).code, 1003);
  });

  it('closes a silent socket with 1008 "handshake timeout"', async () => {
    const quick = await startHarness({ options: { handshakeTimeoutMs: 400 } });
    try {
      const started = Date.now();
      const client = await quick.open();
      const closed = await client.waitClosed(3000);
      assert.deepEqual(closed, { code: 1008, reason: 'handshake timeout' });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 350 && elapsed < 2000, `closed after ${elapsed} ms`);
    } finally {
      await quick.close();
    }
  });

  it('sends no event bytes but the challenge to an unauthenticated socket', async () => {
    const watcher = await h.open();
    await watcher.challenge();
    const authed = await h.connected();
    h.bus.publish({ type: 'text.delta', runId: 'r', sessionKey: 'agent:main:main', delta: 'hi', text: 'hi' });
    await authed.nextEvent('chat');
    assert.equal(watcher.events.length, 0);
    assert.equal(watcher.frames.length, 1);
  });

  it('leaves no state behind once every socket is gone', async () => {
    for (const client of h.clients) await client.close();
    await waitUntil(() => h.channel.stats().connections === 0, 3000, 'connections to drain');
    const stats = h.channel.stats();
    assert.equal(stats.pending, 0);
    assert.equal(stats.pendingIps, 0);
    assert.equal(stats.authenticated, 0);
    assert.equal(stats.subscriptions, 0);
    assert.equal(stats.timers, 0);
    assert.equal(stats.sendErrors, 0);
  });
});

describe('raw hostile frames before connect', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('closes 1009 as soon as a huge frame exceeds the pre-auth cap, without buffering it all', async () => {
    const res = await rawUpgrade(h.port);
    const socket = res.socket!;
    // Announce a 3 MiB frame and send only its first 100 KiB.
    const header = Buffer.alloc(14);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(3 * 1024 * 1024), 2);
    socket.write(Buffer.concat([header, Buffer.alloc(100 * 1024, 0x20)]));
    const frames = await readServerFrames(socket, 2, 3000);
    socket.destroy();
    const close = frames.find((f) => f.opcode === 0x8);
    assert.ok(close, 'close frame expected');
    assert.equal(parseClosePayload(close.payload).code, 1009);
  });

  it('closes 1008 on a frame that is not a request object', async () => {
    const res = await rawUpgrade(h.port);
    const socket = res.socket!;
    socket.write(encodeClientFrame(Buffer.from('[1,2,3]')));
    const frames = await readServerFrames(socket, 2, 3000);
    socket.destroy();
    const close = frames.find((f) => f.opcode === 0x8);
    assert.equal(parseClosePayload(close!.payload).code, 1008);
  });
});

describe('upgrade gate', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ options: { allowedOrigins: ['https://app.example.com/'], allowedHosts: ['gateway.example.com'], maxPendingPerIp: 3 } });
  });
  after(() => h.close());

  it('refuses hostile origins with 403 before any upgrade', async () => {
    const p = h.port;
    const hostile = [
      'https://evil.example',
      'null',
      `http://127.0.0.1:${p + 1}`,
      `http://localhost.evil.example:${p}`,
      `http://127.0.0.1.nip.io:${p}`,
      `http://LOCALHOST:${p}`,
      `http://localhost.:${p}`,
      `http://Localhost:${p}`,
      `HTTP://127.0.0.1:${p}`,
      `http://127.0.0.1:${p}/`,
      `http://127.0.0.1:${p}.evil.example`,
      'https://app.example.com.evil.example',
      'file://',
      '',
    ];
    const attempts: Promise<number>[] = [];
    for (let round = 0; round < 72; round++) {
      for (const origin of hostile) attempts.push(rawUpgrade(p, { Origin: origin }).then((r) => (r.socket?.destroy(), r.status)));
    }
    const statuses = await Promise.all(attempts);
    assert.ok(statuses.length >= 1000);
    assert.deepEqual(new Set(statuses), new Set([403]));
    assert.equal(h.channel.stats().connections, 0);
  });

  it('upgrades without an Origin, and for the gateway own and configured origins', async () => {
    const p = h.port;
    for (const origin of [undefined, `http://127.0.0.1:${p}`, `http://localhost:${p}`, `http://[::1]:${p}`, 'https://app.example.com']) {
      const res = await rawUpgrade(p, origin === undefined ? {} : { Origin: origin });
      res.socket?.destroy();
      assert.equal(res.status, 101, `origin ${origin}`);
    }
  });

  it('refuses an unknown Host with 421 (DNS rebinding)', async () => {
    const p = h.port;
    for (const host of ['evil.example', `evil.example:${p}`, `localhost.evil.example:${p}`, `127.0.0.1.nip.io:${p}`]) {
      const res = await rawUpgrade(p, { Host: host });
      res.socket?.destroy();
      assert.equal(res.status, 421, host);
    }
    for (const host of [`localhost:${p}`, `127.0.0.1:${p}`, `[::1]:${p}`, 'gateway.example.com', `GATEWAY.example.com:${p}`, `10.1.2.3:${p}`]) {
      const res = await rawUpgrade(p, { Host: host });
      res.socket?.destroy();
      assert.equal(res.status, 101, host);
    }
  });

  it('caps pending unauthenticated sockets per IP, and frees the slot on connect', async () => {
    await waitUntil(() => h.channel.stats().pending === 0, 3000, 'earlier sockets to close');
    const pending = [await h.open(), await h.open(), await h.open()];
    await assert.rejects(h.open(), (error: Error & { statusCode?: number }) => error.statusCode === 503);
    const res = await pending[0]!.connect({ token: TEST_TOKEN });
    assert.equal(res.ok, true);
    const next = await h.open();
    assert.equal((await next.connect({ token: TEST_TOKEN })).ok, true);
  });
});
