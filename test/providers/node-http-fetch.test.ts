import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { nodeHttpFetch } from '../../src/providers/node-http-fetch.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('nodeHttpFetch', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  let releaseStream: (() => void) | undefined;

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        route(req.url ?? '', res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function route(url: string, res: ServerResponse): void {
    if (url === '/json') {
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'r1' }).end('{"ok":true}');
    } else if (url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      // The rest only when the test says so: the first chunk must arrive before the body ends.
      releaseStream = () => res.end('data: two\n\n');
    } else if (url === '/hang') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
    } else if (url === '/gzip') {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' }).end(gzipSync('unzipped text'));
    } else if (url === '/empty') {
      res.writeHead(204).end();
    } else if (url === '/temporary') {
      res.writeHead(307, { location: '/json' }).end();
    } else if (url === '/see-other') {
      res.writeHead(303, { location: `${base}/json` }).end();
    } else if (url === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
    } else {
      res.writeHead(404).end('missing');
    }
  }

  it('sends the method, headers and body and answers with status, headers and body', async () => {
    const res = await nodeHttpFetch(`${base}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
      body: '{"q":1}',
    });
    assert.equal(res.status, 201);
    assert.equal(res.ok, true);
    assert.equal(res.headers.get('x-request-id'), 'r1');
    assert.deepEqual(await res.json(), { ok: true });
    const request = seen.at(-1)!;
    assert.deepEqual([request.method, request.body, request.headers.authorization], ['POST', '{"q":1}', 'Bearer k']);
  });

  it('streams the body as it arrives', async () => {
    const res = await nodeHttpFetch(`${base}/stream`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(Buffer.from(first.value!).toString(), 'data: one\n\n');
    releaseStream?.();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += Buffer.from(chunk.value).toString();
    assert.equal(rest, 'data: two\n\n');
  });

  it('an abort ends a body in progress with an AbortError', async () => {
    const controller = new AbortController();
    const res = await nodeHttpFetch(`${base}/hang`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await assert.rejects(reader.read(), (error: Error) => error.name === 'AbortError');
  });

  it('an abort before the answer rejects with an AbortError', async () => {
    await assert.rejects(nodeHttpFetch(`${base}/json`, { signal: AbortSignal.abort() }), (error: Error) => error.name === 'AbortError');
  });

  it('decodes a gzip body, and a 204 has no body', async () => {
    assert.equal(await (await nodeHttpFetch(`${base}/gzip`)).text(), 'unzipped text');
    const empty = await nodeHttpFetch(`${base}/empty`);
    assert.deepEqual([empty.status, empty.body], [204, null]);
  });

  it('follows redirects as fetch does: 307 keeps the POST, 303 turns it into a GET; a loop ends in an error', async () => {
    seen.length = 0;
    const kept = await nodeHttpFetch(`${base}/temporary`, { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
    assert.equal(kept.status, 201);
    assert.deepEqual(seen.map((s) => [s.method, s.url, s.body]), [['POST', '/temporary', 'payload'], ['POST', '/json', 'payload']]);
    seen.length = 0;
    await nodeHttpFetch(`${base}/see-other`, { method: 'POST', body: 'payload' });
    assert.deepEqual(seen.map((s) => [s.method, s.url, s.body]), [['POST', '/see-other', 'payload'], ['GET', '/json', '']]);
    await assert.rejects(nodeHttpFetch(`${base}/loop`), /more than 5 redirects/);
  });

  it('a refused connection rejects like fetch: TypeError "fetch failed" with the cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(nodeHttpFetch(`http://127.0.0.1:${port}/`), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.equal(error.message, 'fetch failed');
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
      return true;
    });
  });
});
