/**
 * The failed-auth lockout cannot be sidestepped by choosing a header or a
 * source address (protocol.md §8.4): invented Origins are refused before any
 * credential is read, every loopback address is one client, X-Forwarded-For
 * counts only from a trusted proxy, and pending and total sockets are capped.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { startHarness, type Harness } from '../helpers/openclaw-channel-harness.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { httpRequest } from './security-helpers.js';

const MAX_FAILURES = 10;
const HOSTILE_ORIGINS = 8;
const GUESSES_PER_ORIGIN = 9;
const LOOPBACK_ADDRESSES = 8;
/** Upper bound on attempts before the test gives up waiting for a lockout. */
const MAX_ATTEMPTS = 200;

const clients: ProtocolClient[] = [];
const sockets: Socket[] = [];

after(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(clients.map((client) => client.close()));
});

async function wsConnect(gateway: StartedGateway, token: string, localAddress: string, headers?: Record<string, string>) {
  const client = await ProtocolClient.open(gateway.wsUrl, { localAddress, headers });
  clients.push(client);
  return client.connect({ token });
}

describe('lockout keys without a proxy', () => {
  let gateway: StartedGateway;
  before(async () => {
    gateway = await startGateway();
  });
  after(() => gateway.close());

  it('gives 10 guesses in all to a client that invents Origins and hops between loopback addresses', async () => {
    const origins = Array.from({ length: HOSTILE_ORIGINS }, (_, i) =>
      i % 2 === 0 ? `http://attacker-${i}.example` : `http://localhost:${gateway.port + 1 + i}`,
    );
    let guesses = 0;
    // 72 wrong bearers over 8 made-up Origins: each is refused before the secret is read.
    for (const origin of origins) {
      for (let i = 0; i < GUESSES_PER_ORIGIN; i++) {
        const res = await httpRequest(gateway.port, '/v1/models', { headers: { origin, authorization: `Bearer wrong-${i}` } });
        if (res.status === 401) guesses++;
        assert.equal(res.status, 403, `${origin} guess ${i + 1}`);
        assert.equal(res.headers['access-control-allow-origin'], undefined);
      }
      const upgrade = await rawUpgrade(gateway.port, { origin, authorization: 'Bearer wrong' });
      assert.equal(upgrade.status, 403, `${origin} upgrade`);
    }
    const fromOrigins = guesses;

    // Then wrong secrets from 8 loopback addresses, on /v1 and the WebSocket in turn, until the lockout.
    let locked = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && !locked; attempt++) {
      const localAddress = `127.0.0.${1 + (attempt % LOOPBACK_ADDRESSES)}`;
      if (attempt % 2 === 0) {
        const res = await httpRequest(gateway.port, '/v1/models', { localAddress, headers: { authorization: `Bearer wrong-${attempt}` } });
        if (res.status === 401) guesses++;
        else locked = res.status === 429;
      } else {
        const res = await wsConnect(gateway, `wrong-${attempt}`, localAddress);
        if (res.error?.details?.code === 'AUTH_TOKEN_MISMATCH') guesses++;
        else locked = res.error?.details?.code === 'AUTH_RATE_LIMITED';
      }
    }
    console.log(
      `guesses before lockout: ${guesses} (${fromOrigins} through ${HOSTILE_ORIGINS} made-up origins, ` +
        `${guesses - fromOrigins} from ${LOOPBACK_ADDRESSES} loopback addresses)`,
    );
    assert.equal(locked, true);
    assert.equal(fromOrigins, 0);
    assert.equal(guesses, MAX_FAILURES);

    // The right secret is refused from any loopback address, on both surfaces.
    const http = await httpRequest(gateway.port, '/v1/models', { localAddress: '127.0.0.99', headers: { authorization: `Bearer ${gateway.token}` } });
    assert.equal(http.status, 429);
    const ws = await wsConnect(gateway, gateway.token, '127.0.0.100');
    assert.equal(ws.error?.details?.code, 'AUTH_RATE_LIMITED');
  });
});

describe('lockout keys behind a trusted proxy', () => {
  const PROXY = '127.0.0.2';
  let gateway: StartedGateway;
  before(async () => {
    gateway = await startGateway({ overrides: { gateway: { trustedProxies: [PROXY] } } });
  });
  after(() => gateway.close());

  async function bearer(localAddress: string, token: string, forwardedFor: string): Promise<number> {
    const headers = { authorization: `Bearer ${token}`, 'x-forwarded-for': forwardedFor };
    return (await httpRequest(gateway.port, '/v1/models', { localAddress, headers })).status;
  }

  it('ignores X-Forwarded-For from any other peer', async () => {
    let guesses = 0;
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const status = await bearer('127.0.0.1', 'wrong', `203.0.113.${i % 250}`);
      if (status !== 401) break;
      guesses++;
    }
    console.log(`guesses before lockout with a made-up X-Forwarded-For each time: ${guesses}`);
    assert.equal(guesses, MAX_FAILURES);
    assert.equal(await bearer('127.0.0.1', gateway.token, '198.51.100.250'), 429);
  });

  it('keys clients of the proxy by the address the proxy saw, whatever the client prepended', async () => {
    // Loopback itself is locked out by the previous case; the proxy's clients are not.
    assert.equal(await bearer(PROXY, gateway.token, '198.51.100.20'), 200);
    let guesses = 0;
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const status = await bearer(PROXY, 'wrong', `10.9.8.${i % 250}, 198.51.100.21`);
      if (status !== 401) break;
      guesses++;
    }
    assert.equal(guesses, MAX_FAILURES);
    assert.equal(await bearer(PROXY, gateway.token, '198.51.100.21'), 429);
    assert.equal(await bearer(PROXY, gateway.token, '198.51.100.22'), 200);
  });
});

describe('socket caps', () => {
  let harness: Harness;
  const MAX_PENDING_TOTAL = 6;
  before(async () => {
    harness = await startHarness({ options: { maxPendingTotal: MAX_PENDING_TOTAL } });
  });
  after(() => harness.close());

  it('caps unauthenticated sockets in all, however many loopback addresses hold them', async () => {
    for (let i = 0; i < MAX_PENDING_TOTAL; i++) {
      const result = await rawUpgrade(harness.port, {}, 3_000, `127.0.1.${i + 1}`);
      assert.equal(result.status, 101, `pending socket ${i + 1}`);
      sockets.push(result.socket!);
    }
    for (let i = 0; i < 4; i++) {
      const result = await rawUpgrade(harness.port, {}, 3_000, `127.0.2.${i + 1}`);
      if (result.socket) sockets.push(result.socket);
      assert.equal(result.status, 503, `extra pending socket ${i + 1}`);
    }
    assert.equal(harness.channel.stats().pending, MAX_PENDING_TOTAL);
  });
});

describe('gateway.maxConnections', () => {
  const MAX_CONNECTIONS = 4;
  let gateway: StartedGateway;
  before(async () => {
    gateway = await startGateway({ overrides: { gateway: { maxConnections: MAX_CONNECTIONS } } });
  });
  after(() => gateway.close());

  it('closes connections past the cap at once, WebSocket and HTTP alike, and takes new ones when a slot frees', async () => {
    const held: ProtocolClient[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const client = await ProtocolClient.open(gateway.wsUrl);
      clients.push(client);
      assert.equal((await client.connect({ token: gateway.token })).ok, true);
      held.push(client);
    }
    await assert.rejects(rawUpgrade(gateway.port), 'an upgrade past the cap');
    await assert.rejects(httpRequest(gateway.port, '/health'), 'an HTTP request past the cap');
    const closedAt = await closedWithin(gateway.port, 2_000);
    assert.ok(closedAt !== undefined, 'a raw TCP connection past the cap is closed by the gateway');

    await held[0]!.close();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = await httpRequest(gateway.port, '/health').then((res) => res.status, () => 0);
    }
    assert.equal(status, 200);
  });
});

/** Open a raw TCP connection and report how long until the server closed it (undefined: still open). */
function closedWithin(port: number, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}
