import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { classifyAddress } from '../../../src/agent/tools/address-policy.js';
import { htmlToText } from '../../../src/agent/tools/html-text.js';
import { createWebFetchTool, MAX_REDIRECTS } from '../../../src/agent/tools/web-fetch-tool.js';
import type { WebFetchOptions } from '../../../src/agent/tools/web-fetch-tool.js';
import type { ToolOutcome } from '../../../src/agent/tool-types.js';

let server: Server;
let base: string;
let hits = 0;
let endlessClosed: () => void = () => {};
const signal = new AbortController().signal;

function text(outcome: ToolOutcome): string {
  return outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

function tool(overrides: Partial<WebFetchOptions> = {}) {
  return createWebFetchTool({ allowPrivateNetwork: true, timeoutMs: 5_000, maxBytes: 4096, ...overrides });
}

before(async () => {
  server = createServer((req, res) => {
    hits++;
    const path = req.url ?? '/';
    if (path === '/hello') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('hello from loopback');
    } else if (path === '/page') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><head><style>p{}</style></head><body><h1>Title</h1><p>One &amp; two</p><script>x()</script></body></html>');
    } else if (path === '/gzip') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync('{"ok":true}'));
    } else if (path === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('z'.repeat(100_000));
    } else if (path.startsWith('/redirect/')) {
      const n = Number(path.slice('/redirect/'.length));
      res.writeHead(302, { location: n > 0 ? `/redirect/${n - 1}` : '/hello' }).end();
    } else if (path === '/slow') {
      setTimeout(() => res.end('late'), 3_000).unref();
    } else if (path === '/slow-gzip') {
      // Half a compressed body, then silence.
      const body = gzipSync('x'.repeat(10_000));
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).write(body.subarray(0, body.length >> 1));
      setTimeout(() => res.end(body.subarray(body.length >> 1)), 3_000).unref();
    } else if (path === '/redirect-endless') {
      // A redirect whose body never ends: the client must hang up, not drain it.
      res.writeHead(302, { location: '/hello', 'content-type': 'text/plain' });
      const writer = setInterval(() => res.write('y'.repeat(1024)), 10);
      res.on('close', () => {
        clearInterval(writer);
        endlessClosed();
      });
    } else if (path === '/binary') {
      res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0, 1]));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such page');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('web_fetch', () => {
  it('fetches a loopback page when private networks are allowed', async () => {
    const outcome = await tool().execute({ url: `${base}/hello` }, signal);
    assert.equal(outcome.isError, false);
    assert.equal(text(outcome), `URL: ${base}/hello\nStatus: 200 OK\nContent-Type: text/plain; charset=utf-8\n\nhello from loopback`);
  });

  it('refuses loopback without the allowance, by IP and by a name that resolves to it, before connecting', async () => {
    const before = hits;
    const strict = tool({ allowPrivateNetwork: false });
    await assert.rejects(strict.execute({ url: `${base}/hello` }, signal), /refused: 127\.0\.0\.1 is a loopback address.*allowPrivateNetwork/);
    const port = (server.address() as AddressInfo).port;
    await assert.rejects(strict.execute({ url: `http://localhost:${port}/hello` }, signal), /refused: localhost resolves to (127\.0\.0\.1|::1), which is a loopback address/);
    await assert.rejects(strict.execute({ url: `http://[::ffff:127.0.0.1]:${port}/hello` }, signal), /loopback address/);
    // A name whose addresses mix public and private ones is refused too.
    const mixed = tool({
      allowPrivateNetwork: false,
      lookup: (_host, _options, callback) => callback(null, [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }]),
    });
    await assert.rejects(mixed.execute({ url: 'http://rebind.example/' }, signal), /rebind\.example resolves to 10\.0\.0\.7, which is a private address/);
    assert.equal(hits, before, 'the server was never reached');
  });

  it('follows redirects up to the limit', async () => {
    assert.match(text(await tool().execute({ url: `${base}/redirect/2` }, signal)), new RegExp(`^URL: ${base}/hello\n[\\s\\S]*hello from loopback$`));
    await assert.rejects(tool().execute({ url: `${base}/redirect/${MAX_REDIRECTS + 1}` }, signal), /too many redirects/);
  });

  it('hangs up on a redirect instead of reading its body', async () => {
    const closed = new Promise<void>((resolve) => (endlessClosed = resolve));
    assert.match(text(await tool().execute({ url: `${base}/redirect-endless` }, signal)), /hello from loopback$/);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still open'), 5_000)));
    assert.equal(await Promise.race([closed.then(() => 'closed'), late]), 'closed');
    clearTimeout(timer);
  });

  it('turns HTML into text, decompresses, and marks HTTP errors', async () => {
    assert.match(text(await tool().execute({ url: `${base}/page` }, signal)), /\n\nTitle\nOne & two$/);
    assert.match(text(await tool().execute({ url: `${base}/gzip` }, signal)), /\n\n\{"ok":true\}$/);
    const missing = await tool().execute({ url: `${base}/nope` }, signal);
    assert.equal(missing.isError, true);
    assert.match(text(missing), /Status: 404 Not Found[\s\S]*no such page$/);
    assert.match(text(await tool().execute({ url: `${base}/binary` }, signal)), /\[binary content not shown: 4 bytes of image\/png\]$/);
  });

  it('caps the size and the time', async () => {
    const big = text(await tool({ maxBytes: 1024 }).execute({ url: `${base}/big` }, signal));
    assert.ok(big.endsWith(`${'z'.repeat(1024)}\n\n[truncated: only the first 1024 bytes were read]`));
    await assert.rejects(tool({ timeoutMs: 200 }).execute({ url: `${base}/slow` }, signal), /stopped: timed out after 200 ms/);
    await assert.rejects(tool({ timeoutMs: 200 }).execute({ url: `${base}/slow-gzip` }, signal), /stopped: timed out after 200 ms/);
  });

  it('rejects URLs that are not http or https', async () => {
    await assert.rejects(tool().execute({ url: 'file:///etc/passwd' }, signal), /only http and https URLs/);
    await assert.rejects(tool().execute({ url: 'not a url' }, signal), /invalid URL/);
    await assert.rejects(tool().execute({ url: 7 }, signal), /url: expected a URL string/);
  });
});

describe('classifyAddress', () => {
  it('classifies non-public IPv4 and IPv6 addresses, embedded IPv4 included', () => {
    const cases: [string, string | undefined][] = [
      ['8.8.8.8', undefined], ['172.32.0.1', undefined], ['2606:4700::1111', undefined], ['::ffff:8.8.8.8', undefined],
      ['127.0.0.1', 'loopback'], ['::1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::127.0.0.1', 'loopback'],
      ['10.1.2.3', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['fd00::1', 'private'],
      ['64:ff9b::10.0.0.1', 'private'], ['64:ff9b:1::a00:1', 'reserved'], ['2002:c0a8:0101::1', 'private'],
      ['169.254.169.254', 'link-local'], ['fe80::1%eth0', 'link-local'],
      ['0.0.0.0', 'unspecified'], ['::', 'unspecified'], ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'],
      ['100.64.0.1', 'shared (carrier-grade NAT)'], ['255.255.255.255', 'broadcast'], ['2001:db8::1', 'reserved'],
    ];
    for (const [address, expected] of cases) assert.equal(classifyAddress(address), expected, address);
    assert.throws(() => classifyAddress('example.com'), RangeError);
  });
});

describe('htmlToText', () => {
  it('drops scripts, styles and comments, keeps blocks on their own lines and decodes entities', () => {
    assert.equal(htmlToText('<div>a<!-- c --><b>b</b></div><script>s</script><p>&lt;x&gt; &#65;&#x42; &nbsp;</p>'), 'ab\n<x> AB');
  });

  it('reads half a megabyte of unclosed tags, comments and scripts in one pass', () => {
    const started = Date.now();
    assert.equal(htmlToText('<a '.repeat(170_000)), '<a '.repeat(170_000).trim());
    assert.equal(htmlToText(`kept${'<!-- <p>'.repeat(65_000)}`), 'kept');
    assert.equal(htmlToText(`<p>kept</p>${'<script>'.repeat(65_000)}`), 'kept');
    assert.equal(htmlToText(`x${'<style><p>'.repeat(50_000)}`), 'x');
    // Quadratic scanning takes minutes on these; one pass takes milliseconds.
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });
});
