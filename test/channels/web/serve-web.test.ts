import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createWebHandler } from '../../../src/channels/web/serve-web.js';
import { rawRequest } from '../../helpers/raw-http.js';

const PAGE = '<!doctype html><title>t</title><script type="module" src="/assets/app-0123456789.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

async function listen(assetsDir: string): Promise<{ server: http.Server; port: number }> {
  const handler = createWebHandler({ assetsDir });
  const server = http.createServer((req, res) => {
    if (handler(req, res)) return;
    res.writeHead(418);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('createWebHandler', () => {
  let dir: string;
  let server: http.Server;
  let port: number;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pincer-web-'));
    await mkdir(path.join(dir, 'assets'));
    await writeFile(path.join(dir, 'index.html'), PAGE);
    await writeFile(path.join(dir, 'assets', 'app-0123456789.js'), SCRIPT);
    await writeFile(path.join(dir, 'assets', 'plain.css'), 'body{}');
    ({ server, port } = await listen(dir));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the page at / with a strict CSP and security headers', async () => {
    const reply = await rawRequest(port, '/', { headers: { host: `127.0.0.1:${port}` } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), PAGE);
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(reply.headers['x-content-type-options'], 'nosniff');
    assert.equal(reply.headers['referrer-policy'], 'no-referrer');
    assert.equal(reply.headers['cache-control'], 'no-cache');
    assert.equal(reply.headers['x-frame-options'], 'DENY');
    const csp = String(reply.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${port} wss://127\\.0\\.0\\.1:${port}(;|$)`));
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  });

  it('serves /index.html and ignores the query string', async () => {
    const reply = await rawRequest(port, '/index.html?x=1');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), PAGE);
  });

  it('leaves a Host it cannot echo safely out of the CSP', async () => {
    const reply = await rawRequest(port, '/', { headers: { host: "evil.example; script-src 'unsafe-inline'" } });
    const csp = String(reply.headers['content-security-policy']);
    assert.match(csp, /connect-src 'self';/);
    assert.doesNotMatch(csp, /evil|unsafe-inline/);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await rawRequest(port, '/');
    const head = await rawRequest(port, '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], get.headers['content-length']);
    assert.equal(head.headers['etag'], get.headers['etag']);
  });

  it('serves hashed assets as immutable, gzipped when accepted', async () => {
    const plain = await rawRequest(port, '/assets/app-0123456789.js');
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), SCRIPT);
    assert.equal(plain.headers['content-security-policy'], undefined);

    const zipped = await rawRequest(port, '/assets/app-0123456789.js', { headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.headers['vary'], 'accept-encoding');
    assert.ok(zipped.body.length < SCRIPT.length);
    assert.equal(gunzipSync(zipped.body).toString(), SCRIPT);

    const refused = await rawRequest(port, '/assets/app-0123456789.js', { headers: { 'accept-encoding': 'gzip;q=0' } });
    assert.equal(refused.headers['content-encoding'], undefined);
  });

  it('revalidates unhashed assets and answers a matching If-None-Match with 304', async () => {
    const first = await rawRequest(port, '/assets/plain.css');
    assert.equal(first.headers['cache-control'], 'no-cache');
    const etag = String(first.headers['etag']);
    const second = await rawRequest(port, '/assets/plain.css', { headers: { 'if-none-match': etag } });
    assert.equal(second.status, 304);
    assert.equal(second.body.length, 0);
    assert.equal(second.headers['etag'], etag);
  });

  it('answers 404 for unknown assets and never reads outside the build', async () => {
    for (const pathname of ['/assets/nope.js', '/assets/../index.html', '/assets/%2e%2e/index.html', '/assets/']) {
      const reply = await rawRequest(port, pathname);
      assert.equal(reply.status, 404, pathname);
      assert.equal(reply.headers['x-content-type-options'], 'nosniff');
    }
  });

  it('answers 405 to other methods on its paths', async () => {
    const reply = await rawRequest(port, '/', { method: 'POST' });
    assert.equal(reply.status, 405);
    assert.equal(reply.headers['allow'], 'GET, HEAD');
  });

  it('leaves other paths to the caller', async () => {
    for (const pathname of ['/health', '/v1/models', '/index.htm', '/assetsx']) {
      const reply = await rawRequest(port, pathname);
      assert.equal(reply.status, 418, pathname);
    }
  });
});

describe('createWebHandler before the web chat is built', () => {
  it('answers 503 and serves the build once it appears', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pincer-web-'));
    const { server, port } = await listen(dir);
    try {
      const missing = await rawRequest(port, '/');
      assert.equal(missing.status, 503);
      assert.match(missing.body.toString(), /not built/);
      assert.doesNotMatch(missing.body.toString(), new RegExp(dir.replaceAll('\\', '\\\\')));
      await writeFile(path.join(dir, 'index.html'), PAGE);
      const built = await rawRequest(port, '/');
      assert.equal(built.status, 200);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
