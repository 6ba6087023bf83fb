/**
 * Serving a Control UI build (gateway.controlUi.root/basePath) on a real
 * gateway: the app shell with its base path stamped and a hash-based CSP,
 * assets with the right types and caching, precompressed siblings, deep
 * links, the web chat still at `/`, a same-origin WebSocket, every path
 * escape refused, and config errors that name the field.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/config/config-error.js';
import { safeSegments } from '../../../src/channels/web/serve-control-ui.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { rawRequest, type RawReply } from '../../helpers/raw-http.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';

const SECRET_TEXT = 'outside-the-root-do-not-serve';
const INLINE_SCRIPT = 'document.documentElement.dataset.ready = "1";';
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <link rel="icon" href="./favicon.svg" />
    <link rel="manifest" href="./manifest.webmanifest" />
    <script>${INLINE_SCRIPT}</script>
    <script type="module" crossorigin src="./assets/index-AbCdEf12.js"></script>
    <link rel="stylesheet" href="./assets/app-AbCdEf12.css">
  </head>
  <body><openclaw-app></openclaw-app></body>
</html>`;

const REQUEST_TIMEOUT_MS = 5_000;

function get(port: number, pathname: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawReply> {
  return rawRequest(port, pathname, { method, headers });
}

/** A request line sent byte for byte, so no client library normalises the path. */
function rawGet(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  });
}

async function makeBuild(): Promise<{ base: string; root: string }> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'pincer-control-ui-'));
  const root = path.join(base, 'control-ui');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await mkdir(path.join(root, 'fonts'));
  await writeFile(path.join(base, 'secret.txt'), SECRET_TEXT);
  await writeFile(path.join(root, 'index.html'), PAGE);
  await writeFile(path.join(root, 'assets', 'index-AbCdEf12.js'), 'export const app = 1;\n');
  await writeFile(path.join(root, 'assets', 'index-AbCdEf12.js.br'), 'brotli-bytes');
  await writeFile(path.join(root, 'assets', 'app-AbCdEf12.css'), 'body{margin:0}');
  await writeFile(path.join(root, 'fonts', 'inter.woff2'), 'wOF2');
  await writeFile(path.join(root, 'manifest.webmanifest'), '{}');
  await writeFile(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(path.join(root, 'sw.js'), 'self.addEventListener("push", () => {});');
  await writeFile(path.join(root, '.env'), SECRET_TEXT);
  await symlink(path.join(base, 'secret.txt'), path.join(root, 'assets', 'escape-AbCdEf12.js'));
  // A precompressed sibling that is a link out of the root must not be served either.
  await writeFile(path.join(root, 'assets', 'linked-AbCdEf12.js'), 'export {};');
  await symlink(path.join(base, 'secret.txt'), path.join(root, 'assets', 'linked-AbCdEf12.js.br'));
  return { base, root };
}

describe('gateway.controlUi serving', () => {
  let build: { base: string; root: string };
  let gateway: StartedGateway;

  before(async () => {
    build = await makeBuild();
    gateway = await startGateway({ overrides: { gateway: { controlUi: { root: build.root } } } });
  });
  after(async () => {
    await gateway?.close();
    await rm(build.base, { recursive: true, force: true });
  });

  it('redirects the bare base path to its directory, keeping the query', async () => {
    const reply = await get(gateway.port, '/openclaw?session=main');
    assert.equal(reply.status, 308);
    assert.equal(reply.headers.location, '/openclaw/?session=main');
  });

  it('serves the app shell with the base path stamped, absolute asset URLs and a CSP that admits only its own inline script', async () => {
    for (const pathname of ['/openclaw/', '/openclaw/index.html', '/openclaw/chat/main', '/openclaw/settings/agents?x=1']) {
      const reply = await get(gateway.port, pathname);
      assert.equal(reply.status, 200, pathname);
      assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
      const html = reply.body.toString('utf8');
      assert.match(html, /<html data-openclaw-control-ui-base-path="\/openclaw" lang="en">/);
      assert.ok(html.includes('src="/openclaw/assets/index-AbCdEf12.js"'), 'module script made absolute');
      assert.ok(html.includes('href="/openclaw/assets/app-AbCdEf12.css"'));
      assert.ok(html.includes('href="/openclaw/manifest.webmanifest"'));
      assert.equal(html.includes('"./'), false, 'no relative asset URL is left');

      const csp = String(reply.headers['content-security-policy']);
      const hash = createHash('sha256').update(INLINE_SCRIPT).digest('base64');
      const scriptSrc = csp.split('; ').find((d) => d.startsWith('script-src '));
      assert.equal(scriptSrc, `script-src 'self' 'sha256-${hash}'`);
      assert.ok(csp.includes("frame-ancestors 'none'") && csp.includes("object-src 'none'") && csp.includes("base-uri 'none'"));
      assert.ok(csp.includes(`connect-src 'self' ws://127.0.0.1:${gateway.port} wss://127.0.0.1:${gateway.port} data: blob:;`));
      assert.equal(reply.headers['x-frame-options'], 'DENY');
      assert.equal(reply.headers['x-content-type-options'], 'nosniff');
      assert.equal(reply.headers['referrer-policy'], 'no-referrer');
      assert.equal(reply.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(reply.headers['cache-control'], 'no-cache');
    }
  });

  it('serves assets with their content types, caching and precompressed siblings', async () => {
    const cases: [string, string, string][] = [
      ['/openclaw/assets/index-AbCdEf12.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['/openclaw/assets/app-AbCdEf12.css', 'text/css; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['/openclaw/fonts/inter.woff2', 'font/woff2', 'no-cache'],
      ['/openclaw/manifest.webmanifest', 'application/manifest+json; charset=utf-8', 'no-cache'],
      ['/openclaw/favicon.svg', 'image/svg+xml', 'no-cache'],
      ['/openclaw/sw.js', 'text/javascript; charset=utf-8', 'no-cache'],
    ];
    for (const [pathname, type, cache] of cases) {
      const reply = await get(gateway.port, pathname);
      assert.equal(reply.status, 200, pathname);
      assert.equal(reply.headers['content-type'], type, pathname);
      assert.equal(reply.headers['cache-control'], cache, pathname);
      assert.equal(reply.headers['x-content-type-options'], 'nosniff', pathname);
      assert.equal(reply.headers['cross-origin-resource-policy'], 'same-origin', pathname);
    }
    const plain = await get(gateway.port, '/openclaw/assets/index-AbCdEf12.js');
    assert.equal(plain.body.toString(), 'export const app = 1;\n');
    assert.equal(plain.headers['content-encoding'], undefined);
    const br = await get(gateway.port, '/openclaw/assets/index-AbCdEf12.js', { 'accept-encoding': 'gzip, br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.body.toString(), 'brotli-bytes');
    const again = await get(gateway.port, '/openclaw/assets/index-AbCdEf12.js', { 'if-none-match': String(plain.headers.etag) });
    assert.equal(again.status, 304);
    const head = await get(gateway.port, '/openclaw/assets/index-AbCdEf12.js', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal((await get(gateway.port, '/openclaw/assets/missing-AbCdEf12.js')).status, 404);
    assert.equal((await get(gateway.port, '/openclaw/', {}, 'POST')).status, 405);
  });

  it('refuses every way out of the root: dot segments, encoded separators, NUL, hidden files and symlinks', async () => {
    const attempts = [
      '/openclaw/../secret.txt',
      '/openclaw/assets/../../secret.txt',
      '/openclaw/%2e%2e/secret.txt',
      '/openclaw/%2E%2E/%2E%2E/secret.txt',
      '/openclaw/assets/..%2f..%2fsecret.txt',
      '/openclaw/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/openclaw/..%5csecret.txt',
      '/openclaw/assets/%5c..%5c..%5csecret.txt',
      '/openclaw/%00/secret.txt',
      '/openclaw/index.html%00.js',
      '/openclaw/.env',
      '/openclaw/%2eenv',
      '/openclaw//etc/passwd',
      '/openclaw/%E0%A4%A',
      '/openclaw/assets/escape-AbCdEf12.js',
      `/openclaw/${encodeURIComponent(path.join(build.base, 'secret.txt'))}`,
    ];
    for (const target of attempts) {
      const response = await rawGet(gateway.port, target);
      const status = Number(response.split(' ')[1]);
      assert.ok(status === 404 || status === 400, `${target} answered ${status}`);
      assert.equal(response.includes(SECRET_TEXT), false, `${target} leaked the file`);
    }
    const linked = await get(gateway.port, '/openclaw/assets/linked-AbCdEf12.js', { 'accept-encoding': 'br' });
    assert.equal(linked.status, 200);
    assert.equal(linked.headers['content-encoding'], undefined, 'a sibling linking out of the root is ignored');
    assert.equal(linked.body.toString(), 'export {};');
  });

  it('leaves the web chat at / and other paths to the gateway', async () => {
    const root = await get(gateway.port, '/');
    assert.equal(root.body.toString().includes('data-openclaw-control-ui-base-path'), false);
    assert.equal((await get(gateway.port, '/health')).status, 200);
    assert.equal((await get(gateway.port, '/openclawx/')).status, 404);
  });

  it('lets the page open its WebSocket same-origin with no allowedOrigins entry', async () => {
    const client = await ProtocolClient.open(`ws://127.0.0.1:${gateway.port}/openclaw`, {
      headers: { origin: `http://127.0.0.1:${gateway.port}` },
    });
    try {
      const res = await client.connect({ token: gateway.token });
      assert.equal(res.ok, true, JSON.stringify(res.error));
    } finally {
      await client.close();
    }
  });
});

describe('gateway.controlUi config', () => {
  let build: { base: string; root: string };
  before(async () => {
    build = await makeBuild();
  });
  after(() => rm(build.base, { recursive: true, force: true }));

  function load(controlUi: unknown) {
    return loadConfig({ env: {}, flags: { stateDir: path.join(build.base, 'state') }, overrides: { gateway: { controlUi } } as never });
  }

  function fieldOf(controlUi: unknown): string | undefined {
    try {
      load(controlUi);
      return undefined;
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.field;
    }
  }

  it('is off by default and normalises the base path', () => {
    assert.deepEqual(loadConfig({ env: {}, flags: { stateDir: build.base } }).gateway.controlUi, { root: undefined, basePath: '/openclaw' });
    assert.deepEqual(load({ root: build.root, basePath: '/ui/control/' }).gateway.controlUi, { root: build.root, basePath: '/ui/control' });
  });

  it('names the field of a bad root or base path', () => {
    assert.equal(fieldOf({ root: path.join(build.base, 'missing') }), 'gateway.controlUi.root');
    assert.equal(fieldOf({ root: build.base }), 'gateway.controlUi.root', 'a directory without index.html');
    assert.equal(fieldOf({ root: path.join(build.root, 'index.html') }), 'gateway.controlUi.root', 'a file');
    assert.equal(fieldOf({ root: '' }), 'gateway.controlUi.root');
    for (const basePath of ['openclaw', '/', '/assets', '/v1/ui', '/a/../b', '/a/./b', '/a b', '/%2e%2e', '//x']) {
      assert.equal(fieldOf({ root: build.root, basePath }), 'gateway.controlUi.basePath', basePath);
    }
    assert.equal(fieldOf({ root: build.root, extra: 1 }), 'gateway.controlUi.extra');
  });
});

describe('safeSegments', () => {
  it('decodes once and refuses what could leave the root', () => {
    assert.deepEqual(safeSegments('assets/a%20b.js'), ['assets', 'a b.js']);
    assert.deepEqual(safeSegments('%252e%252e'), ['%2e%2e'], 'decoded once only');
    for (const bad of ['..', 'a/../b', '%2e%2e', 'a%2fb', 'a%5cb', '.git/config', 'a//b', '%00', '%E0%A4%A']) {
      assert.equal(safeSegments(bad), undefined, bad);
    }
  });
});
