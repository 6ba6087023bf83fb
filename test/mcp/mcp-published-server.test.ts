/**
 * A real published MCP server, @modelcontextprotocol/server-filesystem from
 * npm (a devDependency, run offline from node_modules), behind the gateway:
 * the fake model reads and writes through its tools, and the server's own
 * refusal of a path outside its root reaches the model as an error result.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeModelServer } from '../helpers/fake-model-server.js';
import { ProtocolClient } from '../helpers/protocol-client.js';
import type { AnyFrame } from '../helpers/protocol-client.js';
import { startGateway } from '../helpers/start-gateway.js';
import type { StartedGateway } from '../helpers/start-gateway.js';

/** From dist/test/mcp/ (or test/mcp/ under tsx) up to the repository root. */
const ROOT = new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url);
const SERVER = fileURLToPath(new URL('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', ROOT));
const WAIT_MS = 30_000;

let fake: FakeModelServer;
let gateway: StartedGateway;
let client: ProtocolClient;
let root: string;

before(async () => {
  fake = await startFakeModelServer();
  root = await mkdtemp(join(tmpdir(), 'pincer-mcp-fs-'));
  await writeFile(join(root, 'notes.txt'), 'milk, eggs\n');
  gateway = await startGateway({
    overrides: {
      provider: { kind: 'openai', baseUrl: fake.url, apiKey: 'k', model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 },
      mcp: { servers: { files: { command: process.execPath, args: [SERVER, root], connectionTimeoutMs: WAIT_MS } } },
    },
  });
  client = await ProtocolClient.open(gateway.wsUrl);
  const res = await client.connect({ token: gateway.token });
  assert.ok(res.ok, JSON.stringify(res.error));
});

after(async () => {
  await client?.close();
  await gateway?.close();
  await fake.close();
  await rm(root, { recursive: true, force: true });
});

describe('@modelcontextprotocol/server-filesystem behind the gateway', () => {
  it('reads and writes through the published server, and its refusals reach the model', async () => {
    const started = Date.now();
    let servers: any[] = [];
    while (Date.now() - started < WAIT_MS) {
      servers = ((await client.request('tools.catalog', {})).payload as any).mcp.servers;
      if (servers[0]?.state === 'ready') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(servers[0]?.state, 'ready', JSON.stringify(servers));
    console.log(`# figure: server-filesystem ready after ${Date.now() - started} ms, ${servers[0].tools.length} tools`);

    fake.reset();
    fake.enqueue(
      {
        toolCalls: [
          { id: 'f1', name: 'files__read_text_file', arguments: { path: join(root, 'notes.txt') } },
          { id: 'f2', name: 'files__write_file', arguments: { path: join(root, 'todo.txt'), content: 'call mum\n' } },
          { id: 'f3', name: 'files__read_text_file', arguments: { path: '/etc/hostname' } },
        ],
      },
      { text: 'done' },
    );
    const sessionKey = `fs-${randomUUID()}`;
    const runId = randomUUID();
    assert.ok((await client.request('chat.send', { sessionKey, message: 'files please', idempotencyKey: runId })).ok);
    const terminal = await client.waitFor(
      (f: AnyFrame) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId && ['final', 'error'].includes(f.payload?.state),
      WAIT_MS,
      'terminal chat event',
    );
    assert.equal((terminal as any).payload.state, 'final');
    const offered = ((fake.requests[0]?.body.tools ?? []) as any[]).map((tool) => tool.function.name);
    assert.ok(offered.includes('files__read_text_file') && offered.includes('files__list_directory'), offered.join(' '));

    const history = (await client.request('chat.history', { sessionKey, limit: 50 })).payload as { messages: any[] };
    const results = history.messages.filter((m) => m.role === 'toolResult');
    assert.deepEqual(results.map((m) => m.isError), [false, false, true]);
    assert.equal(results[0].content[0].text, 'milk, eggs\n');
    assert.equal(await readFile(join(root, 'todo.txt'), 'utf8'), 'call mum\n');
    assert.match(results[2].content[0].text, /Access denied - path outside allowed directories/);
  });
});
