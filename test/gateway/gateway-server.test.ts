import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { GatewayServer, GatewayServerOptions } from '../../src/gateway/gateway-server.js';
import {
  createGatewayServer,
  HEADERS_TIMEOUT_MS,
  ListenError,
  MAX_HEADERS_COUNT,
  REQUEST_TIMEOUT_MS,
} from '../../src/gateway/gateway-server.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { httpGet } from '../helpers/spawn-cli.js';

const open: GatewayServer[] = [];

async function startServer(options: Partial<GatewayServerOptions> = {}, markStarted = true): Promise<{ gateway: GatewayServer; url: string }> {
  const gateway = createGatewayServer({
    host: '127.0.0.1',
    port: 0,
    websocket: true,
    version: '9.9.9',
    logger: createSilentLogger(),
    ...options,
  });
  open.push(gateway);
  const { port } = await gateway.listen();
  if (markStarted) gateway.markStarted();
  return { gateway, url: `http://127.0.0.1:${port}` };
}

/** Send a raw upgrade request and return everything the server wrote before closing. */
function rawUpgrade(url: string, timeoutMs = 3_000): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got: ${data}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.on('error', () => undefined);
    socket.write(
      [
        'GET / HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        '',
        '',
      ].join('\r\n'),
    );
  });
}

function request(url: string, method: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return fetch(url, { method }).then(async (res) => ({
    status: res.status,
    body: await res.text(),
    headers: Object.fromEntries(res.headers),
  }));
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((gateway) => gateway.close()));
});

describe('health endpoints', () => {
  for (const path of ['/health', '/healthz']) {
    it(`GET ${path} answers OpenClaw's 27-byte live body with its headers`, async () => {
      const { url } = await startServer();
      const res = await httpGet(`${url}${path}`);
      assert.equal(res.status, 200);
      assert.equal(res.body, '{"ok":true,"status":"live"}');
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(res.headers['content-length'], '27');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    });
  }

  it('answers /health while still starting', async () => {
    const { url } = await startServer({}, false);
    assert.equal((await httpGet(`${url}/health`)).status, 200);
  });

  it('refuses other methods with 405', async () => {
    const { url } = await startServer();
    const res = await request(`${url}/health`, 'POST');
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET, HEAD');
  });
});

describe('readiness endpoints', () => {
  it('answers 503 with failing checks while starting, then 200', async () => {
    const { gateway, url } = await startServer({}, false);
    const done = gateway.readiness.expect('sessions');
    const starting = await httpGet(`${url}/ready`);
    assert.equal(starting.status, 503);
    const body = JSON.parse(starting.body) as { ready: boolean; failing: string[]; uptimeMs: number };
    assert.equal(body.ready, false);
    assert.deepEqual(body.failing, ['startup', 'sessions']);
    assert.equal(typeof body.uptimeMs, 'number');

    gateway.markStarted();
    assert.deepEqual(JSON.parse((await httpGet(`${url}/readyz`)).body).failing, ['sessions']);
    done();
    for (const path of ['/ready', '/readyz']) {
      const ready = await httpGet(`${url}${path}`);
      assert.equal(ready.status, 200);
      const parsed = JSON.parse(ready.body) as { ready: boolean; failing: string[]; uptimeMs: number };
      assert.equal(parsed.ready, true);
      assert.deepEqual(parsed.failing, []);
      assert.ok(parsed.uptimeMs >= 0);
      assert.equal(ready.headers['cache-control'], 'no-store');
    }
  });

  it('answers /startupz with the version', async () => {
    const { gateway, url } = await startServer({}, false);
    assert.equal((await httpGet(`${url}/startupz`)).status, 503);
    gateway.markStarted();
    const res = await httpGet(`${url}/startupz`);
    assert.equal(res.status, 200);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(body.ok, true);
    assert.equal(body.status, 'started');
    assert.equal(body.version, '9.9.9');
  });

  it('turns /ready 503 at once on drain while /health stays 200', async () => {
    let releaseHook: () => void = () => undefined;
    const { gateway, url } = await startServer({ drainTimeoutMs: 5_000 });
    let entered!: () => void;
    const inHook = new Promise<void>((resolve) => (entered = resolve));
    gateway.onDrain('test', () => {
      entered();
      return new Promise<void>((resolve) => (releaseHook = resolve));
    });
    assert.equal((await httpGet(`${url}/ready`)).status, 200);

    const drained = gateway.drain('test');
    await inHook;
    const ready = await httpGet(`${url}/ready`);
    assert.equal(ready.status, 503);
    const body = JSON.parse(ready.body) as { ready: boolean; failing: string[]; uptimeMs: number };
    assert.equal(body.ready, false);
    assert.deepEqual(body.failing, ['draining']);
    assert.equal(typeof body.uptimeMs, 'number');
    assert.equal((await httpGet(`${url}/health`)).status, 200);
    assert.equal(gateway.phase, 'draining');

    releaseHook();
    await drained;
    assert.equal(gateway.phase, 'closed');
    await assert.rejects(httpGet(`${url}/health`, 1_000), 'the listener is closed after the drain');
  });
});

describe('routing', () => {
  it('answers unknown paths with a 404 JSON body', async () => {
    const { url } = await startServer();
    for (const path of ['/', '/nope', '/v1/models']) {
      const res = await httpGet(`${url}${path}`);
      assert.equal(res.status, 404);
      assert.deepEqual(JSON.parse(res.body), { error: { message: 'Not Found', type: 'not_found' } });
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
  });

  it('tries plugged routes in order before the 404', async () => {
    const seen: string[] = [];
    const { url } = await startServer({
      routes: [
        (req) => {
          seen.push(`a:${req.url}`);
          return false;
        },
        async (req, res) => {
          seen.push(`b:${req.url}`);
          if (req.url !== '/hello') return false;
          res.end('hi');
          return true;
        },
      ],
    });
    assert.equal((await httpGet(`${url}/hello`)).body, 'hi');
    assert.equal((await httpGet(`${url}/other`)).status, 404);
    assert.equal((await httpGet(`${url}/health`)).status, 200);
    assert.deepEqual(seen, ['a:/hello', 'b:/hello', 'a:/other', 'b:/other'], 'health routes come first');
  });

  it('answers 500 without internals when a route throws', async () => {
    const { gateway, url } = await startServer();
    gateway.addRoute(() => {
      throw new Error('secret internals');
    });
    const res = await httpGet(`${url}/x`);
    assert.equal(res.status, 500);
    assert.ok(!res.body.includes('secret internals'));
  });

  it('sets request timeouts and a header-count limit', async () => {
    const { gateway } = await startServer();
    assert.equal(gateway.server.requestTimeout, REQUEST_TIMEOUT_MS);
    assert.equal(gateway.server.headersTimeout, HEADERS_TIMEOUT_MS);
    assert.equal(gateway.server.maxHeadersCount, MAX_HEADERS_COUNT);
    assert.ok(REQUEST_TIMEOUT_MS > 0 && HEADERS_TIMEOUT_MS <= REQUEST_TIMEOUT_MS);
  });
});

describe('slow clients', () => {
  const HEADERS_MS = 1_000;
  const REQUEST_MS = 2_000;
  /** How late a limit may fire (Node checks on an interval; its default of 30 s let clients stay 30 s longer). */
  const SLACK_MS = 1_000;

  /** Write `text`, then nothing more; resolve with the ms until the server closed the socket. */
  function stallAfter(url: string, text: string): Promise<number> {
    const { port } = new URL(url);
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(text));
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`still open after ${REQUEST_MS + 5 * SLACK_MS} ms`));
      }, REQUEST_MS + 5 * SLACK_MS);
      socket.on('error', () => undefined);
      socket.resume();
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(Date.now() - started);
      });
    });
  }

  it('closes a slow-header and a slow-body client within a second of the configured limits', async () => {
    const { url } = await startServer({ headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS });
    const [slowHeaders, slowBody] = await Promise.all([
      stallAfter(url, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a'),
      stallAfter(url, 'POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{'),
    ]);
    console.log(`slow headers closed after ${slowHeaders} ms (limit ${HEADERS_MS}), slow body after ${slowBody} ms (limit ${REQUEST_MS})`);
    assert.ok(slowHeaders >= HEADERS_MS - 50 && slowHeaders < HEADERS_MS + SLACK_MS, `slow headers closed after ${slowHeaders} ms`);
    assert.ok(slowBody >= REQUEST_MS - 50 && slowBody < REQUEST_MS + SLACK_MS, `slow body closed after ${slowBody} ms`);
  });
});

describe('upgrades', () => {
  it('refuses every upgrade with 404 and no 101 when the WebSocket is disabled', async () => {
    let called = false;
    const { url } = await startServer({ websocket: false, onUpgrade: () => void (called = true) });
    const reply = await rawUpgrade(url);
    assert.match(reply, /^HTTP\/1\.1 404 /);
    assert.ok(!reply.includes(' 101 '));
    assert.match(reply, /WebSocket is disabled/);
    assert.equal(called, false);
  });

  it('hands upgrades to the handler once ready', async () => {
    const { url } = await startServer({
      onUpgrade: (_req, socket) => {
        socket.end('HTTP/1.1 418 I am a teapot\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      },
    });
    assert.match(await rawUpgrade(url), /^HTTP\/1\.1 418 /);
  });

  it('refuses upgrades with 503 while starting and while draining', async () => {
    let calls = 0;
    const { gateway, url } = await startServer({ onUpgrade: (_req, socket) => void (calls++, socket.destroy()) }, false);
    assert.match(await rawUpgrade(url), /^HTTP\/1\.1 503 /);
    gateway.markStarted();
    let release: () => void = () => undefined;
    gateway.onDrain('hold', () => new Promise<void>((resolve) => (release = resolve)));
    const drained = gateway.drain();
    const reply = await rawUpgrade(url);
    assert.match(reply, /^HTTP\/1\.1 503 /);
    assert.match(reply, /retry-after: 2/);
    assert.equal(calls, 0);
    release();
    await drained;
  });

  it('answers 500 when the upgrade handler throws', async () => {
    const { url } = await startServer({
      onUpgrade: () => {
        throw new Error('bad');
      },
    });
    assert.match(await rawUpgrade(url), /^HTTP\/1\.1 500 /);
  });
});

describe('drain', () => {
  it('stops waiting for hooks when the budget runs out and aborts their signal', async () => {
    const { gateway } = await startServer({ drainTimeoutMs: 200 });
    let aborted = false;
    gateway.onDrain('stuck', ({ signal }) => {
      signal.addEventListener('abort', () => (aborted = true));
      return new Promise<void>(() => undefined);
    });
    gateway.onDrain('fails', () => {
      throw new Error('hook failure');
    });
    const started = Date.now();
    await gateway.drain();
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 150 && elapsed < 2_000, `drain took ${elapsed} ms`);
    assert.equal(aborted, true);
    assert.equal(gateway.phase, 'closed');
  });

  it('is idempotent', async () => {
    const { gateway } = await startServer();
    let runs = 0;
    gateway.onDrain('count', () => void runs++);
    await Promise.all([gateway.drain(), gateway.drain(), gateway.close()]);
    assert.equal(runs, 1);
  });

  it('cuts idle keep-alive connections so close() is quick', async () => {
    const { gateway, url } = await startServer({ drainTimeoutMs: 5_000 });
    const res = await fetch(`${url}/health`);
    await res.text();
    const started = Date.now();
    await gateway.close();
    assert.ok(Date.now() - started < 1_000);
  });
});

describe('listen', () => {
  it('reports a port in use with one clear line', async () => {
    const { gateway } = await startServer();
    const second = createGatewayServer({
      host: '127.0.0.1',
      port: gateway.address.port,
      websocket: true,
      version: '0',
      logger: createSilentLogger(),
    });
    await assert.rejects(second.listen(), (error: unknown) => {
      assert.ok(error instanceof ListenError);
      assert.equal(error.code, 'EADDRINUSE');
      assert.match(error.message, new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${gateway.address.port}: address already in use`));
      assert.ok(!error.message.includes('\n'));
      return true;
    });
  });
});
