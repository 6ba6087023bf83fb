import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpRoute } from '../../src/gateway/gateway-server.js';
import { createLazyRoute } from '../../src/util/lazy-route.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';

const servers: Server[] = [];
const gateways: StartedGateway[] = [];
after(async () => {
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const gateway of gateways) await gateway.close();
});

/** Serve `route` on 127.0.0.1:0; unclaimed requests get 404, a throwing route 500. */
async function serve(route: HttpRoute): Promise<string> {
  const server = createServer((req, res) => {
    Promise.resolve(route(req, res)).then(
      (handled) => {
        if (!handled) res.writeHead(404).end('unclaimed');
      },
      () => res.writeHead(500).end('failed'),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function fetchText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, timeout: 5_000, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('createLazyRoute', () => {
  it('loads the route once, on the first claimed request, and never for unclaimed ones', async () => {
    let loads = 0;
    const base = await serve(
      createLazyRoute(
        (url) => url.startsWith('/v1'),
        async () => {
          loads++;
          return (req, res) => {
            res.writeHead(200).end(`real ${req.url}`);
            return true;
          };
        },
      ),
    );
    assert.deepEqual(await fetchText(`${base}/other`), { status: 404, body: 'unclaimed' });
    assert.equal(loads, 0);
    const [first, second] = await Promise.all([fetchText(`${base}/v1/a`), fetchText(`${base}/v1/b`)]);
    assert.deepEqual(first, { status: 200, body: 'real /v1/a' });
    assert.deepEqual(second, { status: 200, body: 'real /v1/b' });
    assert.equal(loads, 1);
  });

  it('lets the real route decline a claimed request', async () => {
    const base = await serve(createLazyRoute(() => true, async () => () => false));
    assert.deepEqual(await fetchText(`${base}/anything`), { status: 404, body: 'unclaimed' });
  });

  it('retries a failed load on the next request', async () => {
    let loads = 0;
    const base = await serve(
      createLazyRoute(
        () => true,
        async () => {
          loads++;
          if (loads === 1) throw new Error('module failed to load');
          return (_req, res) => {
            res.writeHead(200).end('loaded');
            return true;
          };
        },
      ),
    );
    assert.deepEqual(await fetchText(`${base}/x`), { status: 500, body: 'failed' });
    assert.deepEqual(await fetchText(`${base}/x`), { status: 200, body: 'loaded' });
    assert.equal(loads, 2);
  });
});

describe('the gateway with the OpenAI-compatible API loaded on demand', () => {
  it('answers /v1/models on the first request, with and without the secret', async () => {
    const gateway = await startGateway();
    gateways.push(gateway);
    const denied = await fetchText(`${gateway.url}/v1/models`);
    assert.equal(denied.status, 401);
    const listed = await fetchText(`${gateway.url}/v1/models`, { authorization: `Bearer ${gateway.token}` });
    assert.equal(listed.status, 200);
    assert.equal(JSON.parse(listed.body).object, 'list');
    assert.equal((await fetchText(`${gateway.url}/v2/models`)).status, 404);
  });
});
