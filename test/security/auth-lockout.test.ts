/**
 * Failed-auth lockout (protocol.md §8.4) against the real gateway: 10 wrong
 * secrets per 60 s per key lock the key for 5 minutes, on the WebSocket and
 * on /v1 bearer auth alike. Every loopback address is one key, so each case
 * plays its own client address through a trusted proxy (127.0.0.1 with
 * X-Forwarded-For) to own its limiter key.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { ProtocolClient, type ConnectOptions, type ResFrame } from '../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { httpRequest, runBounded } from './security-helpers.js';

const MAX_FAILURES = 10;
const LOCKOUT_MS = 5 * 60_000;
/** Keys sprayed at the limiter, above its 10,000-entry cap. */
const SPRAY_KEYS = 11_000;
const SPRAY_CONCURRENCY = 16;

let gateway: StartedGateway;
const clients: ProtocolClient[] = [];

/** The trusted proxy every case connects from. */
const PROXY = '127.0.0.1';

before(async () => {
  gateway = await startGateway({ overrides: { gateway: { trustedProxies: [PROXY] } } });
});

/** Headers that make the request come from `client` (an address behind the proxy). */
function from(client: string, headers: Record<string, string> = {}): Record<string, string> {
  return { 'x-forwarded-for': client, ...headers };
}
after(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await gateway.close();
});

/** Open a socket as `client` (behind the proxy), send connect, and return its res and close. */
async function attempt(client: string, connect: ConnectOptions, headers?: Record<string, string>) {
  return attemptRaw(PROXY, connect, from(client, headers));
}

/** Open a socket from `localAddress` with exactly these headers. */
async function attemptRaw(localAddress: string, connect: ConnectOptions, headers?: Record<string, string>) {
  const client = await ProtocolClient.open(gateway.wsUrl, { localAddress, headers });
  clients.push(client);
  const res = await client.connect(connect);
  const closed = res.ok ? undefined : await client.waitClosed();
  return { client, res, closed };
}

async function failTimes(client: string, count: number, extra?: ConnectOptions, headers?: Record<string, string>): Promise<void> {
  for (let i = 0; i < count; i++) {
    const { res } = await attempt(client, { token: `wrong-${i}`, ...extra }, headers);
    assert.equal(res.error?.details?.code, 'AUTH_TOKEN_MISMATCH', `attempt ${i + 1}`);
  }
}

function assertLockedOut(res: ResFrame, closed: { code: number } | undefined): void {
  assert.equal(res.ok, false);
  assert.equal(res.error?.details?.code, 'AUTH_RATE_LIMITED');
  assert.equal(res.error?.retryable, true);
  const retryAfterMs = res.error?.retryAfterMs ?? 0;
  assert.ok(retryAfterMs > LOCKOUT_MS - 30_000 && retryAfterMs <= LOCKOUT_MS, `retryAfterMs ${retryAfterMs} is the remaining 5-minute lockout`);
  assert.equal(closed?.code, 1008);
}

describe('failed-auth lockout on the WebSocket', () => {
  it('locks a key after 10 wrong tokens, then refuses even the right token', async () => {
    await failTimes('198.51.100.2', MAX_FAILURES - 1);
    // Nine failures are not a lockout.
    assert.equal((await attempt('198.51.100.2', { token: gateway.token })).res.ok, true);
    // A success resets the count: ten more are needed.
    await failTimes('198.51.100.2', MAX_FAILURES);
    const locked = await attempt('198.51.100.2', { token: gateway.token });
    assertLockedOut(locked.res, locked.closed);
    // Another client IP is not affected.
    assert.equal((await attempt('198.51.100.1', { token: gateway.token })).res.ok, true);
  });

  it('does not count a missing token', async () => {
    for (let i = 0; i < MAX_FAILURES * 2; i++) {
      const { res } = await attempt('198.51.100.3', {});
      assert.equal(res.error?.details?.code, 'AUTH_TOKEN_MISSING');
    }
    assert.equal((await attempt('198.51.100.3', { token: gateway.token })).res.ok, true);
  });

  it('is not bypassed by extra fields, device tokens, a password or an upgrade credential', async () => {
    const junk = { deviceToken: 'dt', bootstrapToken: 'bt', password: 'pw' };
    await failTimes('198.51.100.4', MAX_FAILURES, { extra: { auth: { token: 'wrong', ...junk }, admin: true, bypass: 1 } });
    const variants: { connect: ConnectOptions; headers?: Record<string, string> }[] = [
      { connect: { token: gateway.token } },
      { connect: { token: gateway.token, extra: { auth: { token: gateway.token, ...junk }, rateLimit: false } } },
      { connect: { token: gateway.token, role: 'operator', scopes: ['operator.admin', 'operator.pairing'] } },
      { connect: { extra: { auth: { deviceToken: gateway.token } } } },
      { connect: {}, headers: { authorization: `Bearer ${gateway.token}` } },
    ];
    for (const variant of variants) {
      const { res, closed } = await attempt('198.51.100.4', variant.connect, variant.headers);
      assertLockedOut(res, closed);
    }
  });

  it('keys an allowed browser page by its Origin too, so the CLI on the same machine still connects', async () => {
    const page = { origin: `http://localhost:${gateway.port}` };
    for (let i = 0; i < MAX_FAILURES; i++) {
      const { res } = await attemptRaw('127.0.0.5', { token: `wrong-${i}` }, page);
      assert.equal(res.error?.details?.code, 'AUTH_TOKEN_MISMATCH', `attempt ${i + 1}`);
    }
    const pageAgain = await attemptRaw('127.0.0.5', { token: gateway.token }, page);
    assertLockedOut(pageAgain.res, pageAgain.closed);
    // Same machine without an Origin (CLI, native clients): a different key, not locked.
    assert.equal((await attemptRaw('127.0.0.5', { token: gateway.token })).res.ok, true);
    // Every loopback address is the same client, so another one does not free the page.
    const otherLoopback = await attemptRaw('127.0.0.6', { token: gateway.token }, page);
    assertLockedOut(otherLoopback.res, otherLoopback.closed);
  });
});

describe('failed-auth lockout on /v1 bearer auth', () => {
  it('answers 429 with Retry-After after 10 wrong bearers, even for the right one, and shares the key with the WebSocket', async () => {
    const client = '198.51.100.7';
    for (let i = 0; i < MAX_FAILURES; i++) {
      const res = await httpRequest(gateway.port, '/v1/models', { localAddress: PROXY, headers: from(client, { authorization: `Bearer wrong-${i}` }) });
      assert.equal(res.status, 401, `attempt ${i + 1}`);
    }
    const locked = await httpRequest(gateway.port, '/v1/models', { localAddress: PROXY, headers: from(client, { authorization: `Bearer ${gateway.token}` }) });
    assert.equal(locked.status, 429);
    const retryAfterS = Number(locked.headers['retry-after']);
    assert.ok(retryAfterS > 270 && retryAfterS <= 300, `Retry-After ${String(locked.headers['retry-after'])}`);
    const ws = await attempt(client, { token: gateway.token });
    assertLockedOut(ws.res, ws.closed);
    // Other IPs keep working.
    const ok = await httpRequest(gateway.port, '/v1/models', { localAddress: PROXY, headers: from('198.51.100.1', { authorization: `Bearer ${gateway.token}` }) });
    assert.equal(ok.status, 200);
  });

  it('keeps a lockout while 11,000 other keys are sprayed at the 10,000-key limiter', async () => {
    const client = '198.51.100.8';
    await failTimes(client, MAX_FAILURES);
    const agent = new Agent({ keepAlive: true, maxSockets: SPRAY_CONCURRENCY });
    try {
      // Each client address behind the proxy is its own key (§8.4); one wrong bearer each.
      await runBounded(SPRAY_KEYS, SPRAY_CONCURRENCY, async (i) => {
        const res = await httpRequest(gateway.port, '/v1/models', {
          agent,
          localAddress: PROXY,
          headers: from(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, { authorization: 'Bearer wrong' }),
        });
        assert.equal(res.status, 401);
      });
    } finally {
      agent.destroy();
    }
    const locked = await attempt(client, { token: gateway.token });
    assertLockedOut(locked.res, locked.closed);
    assert.equal((await attempt('198.51.100.9', { token: gateway.token })).res.ok, true);
  });
});
