/**
 * One gate for HTTP and WebSocket (protocol.md §8.2): `/v1` applies the same
 * Host allow-list (421, DNS rebinding) and Origin rule (403) as the upgrade,
 * answers CORS only for allowed origins, and refuses two Host headers (400).
 * Checked with raw requests and with real pages in headless Chromium.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { chromium, type Browser } from 'playwright-core';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { CHROMIUM_PATH, chromiumSkipReason } from '../web/browser-helpers.js';
import { httpRequest } from './security-helpers.js';

const CONFIGURED_ORIGIN = 'https://chat.example.com';
const REBIND_HOST = 'rebind.attacker.test';
/** Headers every request carries that a browser sets itself or that are CORS-safelisted. */
const BROWSER_OWNED = new Set(['host', 'connection', 'accept', 'accept-encoding', 'accept-language', 'content-length', 'user-agent']);

/** Headers a page script would set itself (browsers own the rest, including every `sec-` header). */
function scriptHeaderNames(headers: Record<string, string>): string[] {
  return Object.keys(headers).filter((name) => !BROWSER_OWNED.has(name) && !name.startsWith('sec-'));
}

let gateway: StartedGateway;
let allowedPage: PageServer;
let foreignPage: PageServer;
/** Request header names the official OpenAI SDK sends, captured from a real call. */
let sdkHeaders: Record<string, string>;

before(async () => {
  allowedPage = await startPageServer();
  foreignPage = await startPageServer();
  sdkHeaders = await captureSdkHeaders();
  gateway = await startGateway({ overrides: { gateway: { allowedOrigins: [CONFIGURED_ORIGIN, allowedPage.origin] } } });
});
after(async () => {
  await gateway?.close();
  await allowedPage?.close();
  await foreignPage?.close();
});

function bearer(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${gateway.token}`, ...extra };
}

describe('the /v1 gate', () => {
  it('answers 421 to a foreign Host even with the right secret (DNS rebinding)', async () => {
    for (const host of [`${REBIND_HOST}:${gateway.port}`, REBIND_HOST, `localhost.${REBIND_HOST}`, `127.0.0.1.${REBIND_HOST}:${gateway.port}`]) {
      const res = await httpRequest(gateway.port, '/v1/models', { headers: bearer({ host }) });
      assert.equal(res.status, 421, host);
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    }
    const post = await httpRequest(gateway.port, '/v1/chat/completions', {
      method: 'POST',
      headers: bearer({ host: REBIND_HOST, 'content-type': 'application/json' }),
    });
    assert.equal(post.status, 421);
    // Loopback names, IP literals and configured names still pass.
    for (const host of [`127.0.0.1:${gateway.port}`, `localhost:${gateway.port}`, '127.0.0.1']) {
      assert.equal((await httpRequest(gateway.port, '/v1/models', { headers: bearer({ host }) })).status, 200, host);
    }
  });

  it('answers 403 to a foreign Origin before reading the secret, with no CORS headers', async () => {
    for (const origin of ['https://evil.example', 'null', `http://localhost:${gateway.port + 1}`, `${CONFIGURED_ORIGIN}.evil.example`, foreignPage.origin]) {
      const res = await httpRequest(gateway.port, '/v1/models', { headers: bearer({ origin }) });
      assert.equal(res.status, 403, origin);
      assert.equal(res.headers['access-control-allow-origin'], undefined, origin);
    }
  });

  it('answers 400 to two Host headers, on /v1 and on the WebSocket upgrade', async () => {
    const v1 = await rawHttp(
      gateway.port,
      `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nHost: ${REBIND_HOST}\r\nAuthorization: Bearer ${gateway.token}\r\n\r\n`,
    );
    assert.match(v1, /^HTTP\/1\.1 400 /);
    const upgrade = await rawHttp(
      gateway.port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nHost: ${REBIND_HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    assert.match(upgrade, /^HTTP\/1\.1 400 /);
  });

  it('answers CORS for allowed origins only, with a preflight for what the OpenAI SDK sends', async () => {
    const requested = scriptHeaderNames(sdkHeaders);
    assert.ok(requested.includes('authorization') && requested.some((name) => name.startsWith('x-stainless-')), requested.join());
    for (const origin of [CONFIGURED_ORIGIN, allowedPage.origin, `http://localhost:${gateway.port}`]) {
      const preflight = await httpRequest(gateway.port, '/v1/chat/completions', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requested.join(', ') },
      });
      assert.equal(preflight.status, 204, origin);
      assert.equal(preflight.headers['access-control-allow-origin'], origin);
      assert.match(String(preflight.headers['access-control-allow-methods']), /\bPOST\b/);
      const allowedHeaders = String(preflight.headers['access-control-allow-headers']).split(', ');
      for (const name of requested) assert.ok(allowedHeaders.includes(name), `${name} allowed for ${origin}`);
      const res = await httpRequest(gateway.port, '/v1/models', { headers: bearer({ origin }) });
      assert.equal(res.status, 200);
      assert.equal(res.headers['access-control-allow-origin'], origin);
    }
    const foreign = await httpRequest(gateway.port, '/v1/chat/completions', {
      method: 'OPTIONS',
      headers: { origin: foreignPage.origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    assert.equal(foreign.headers['access-control-allow-methods'], undefined);
  });
});

describe('the /v1 gate in a real browser', { skip: chromiumSkipReason() }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      // The rebinding attack: the attacker's name now resolves to the gateway's address.
      args: ['--no-sandbox', `--host-resolver-rules=MAP ${REBIND_HOST} 127.0.0.1`],
    });
  });
  after(() => browser?.close());

  /** fetch /v1/models from a page at `pageUrl` with the SDK's headers; the status, or the error text. */
  async function fetchFromPage(pageUrl: string, target: string): Promise<string> {
    const page = await browser.newPage();
    try {
      await page.goto(pageUrl);
      const names = scriptHeaderNames(sdkHeaders);
      const headers = { ...Object.fromEntries(names.map((name) => [name, sdkHeaders[name]!])), authorization: `Bearer ${gateway.token}` };
      return await page.evaluate(
        async ({ target, headers }) => {
          try {
            const res = await fetch(target, { headers });
            return `${res.status} ${(await res.text()).slice(0, 20)}`;
          } catch (error) {
            return `error ${String(error)}`;
          }
        },
        { target, headers },
      );
    } finally {
      await page.close();
    }
  }

  it('lets a page of an allowed origin call /v1 with the SDK headers, and no other page', async () => {
    const target = `http://127.0.0.1:${gateway.port}/v1/models`;
    assert.match(await fetchFromPage(allowedPage.origin, target), /^200 \{"object":"list"/);
    assert.match(await fetchFromPage(foreignPage.origin, target), /^error TypeError/);
  });

  it('gives a DNS-rebinding page 421 on its own origin', async () => {
    const rebound = `http://${REBIND_HOST}:${gateway.port}`;
    assert.match(await fetchFromPage(`${rebound}/health`, `${rebound}/v1/models`), /^421 /);
  });
});

interface PageServer {
  origin: string;
  close(): Promise<void>;
}

/** A page server on its own loopback port: its origin is http://127.0.0.1:<port>. */
async function startPageServer(): Promise<PageServer> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>page</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Make one real OpenAI SDK call to a capturing server and return the request headers it sent. */
async function captureSdkHeaders(): Promise<Record<string, string>> {
  let captured: Record<string, string> = {};
  const server = createServer((req, res) => {
    captured = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"object":"list","data":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'capture', maxRetries: 0, timeout: 5_000 });
    await client.models.list();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  return captured;
}

/** Write raw bytes and return what the server answered before closing (or within 2 s). */
function rawHttp(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, 2_000);
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      answer += chunk;
      if (answer.includes('\r\n\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', reject);
  });
}
