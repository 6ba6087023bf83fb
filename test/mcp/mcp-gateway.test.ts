/**
 * MCP tools end to end: a real gateway with a local (stdio) and a remote
 * (Streamable HTTP) test server, the fake model calling their tools in the
 * OpenAI and the Anthropic format, and a protocol client reading the tool
 * stream, the history, tools.catalog and config.get.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FileConfig } from '../../src/config/schema.js';
import { REDACTED_SENTINEL } from '../../src/security/redact-config.js';
import { startFakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeModelServer, RecordedRequest } from '../helpers/fake-model-server.js';
import { startMcpHttpServer, TEST_PNG_BASE64 } from '../helpers/mcp-test-server.js';
import type { McpHttpServer } from '../helpers/mcp-test-server.js';
import { ProtocolClient } from '../helpers/protocol-client.js';
import type { AnyFrame, EventFrame } from '../helpers/protocol-client.js';
import { startGateway } from '../helpers/start-gateway.js';
import type { StartedGateway } from '../helpers/start-gateway.js';

const SERVER_SCRIPT = fileURLToPath(new URL('../helpers/mcp-stdio-server.js', import.meta.url));
const WAIT_MS = 20_000;
const REMOTE_TOKEN = 'remote-bearer-0123456789';
const LOCAL_SECRET = 'local-env-secret-abcdef';

interface Stack {
  gateway: StartedGateway;
  client: ProtocolClient;
}

let fake: FakeModelServer;
let http: McpHttpServer;
const stacks: Stack[] = [];

async function startStack(kind: 'openai' | 'anthropic', mcp: FileConfig['mcp']): Promise<Stack> {
  const gateway = await startGateway({
    overrides: {
      provider: { kind, baseUrl: kind === 'openai' ? fake.url : fake.anthropicUrl, apiKey: 'k', model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 },
      mcp,
    },
  });
  const client = await ProtocolClient.open(gateway.wsUrl);
  const stack = { gateway, client };
  stacks.push(stack);
  const res = await client.connect({ token: gateway.token });
  assert.ok(res.ok, JSON.stringify(res.error));
  return stack;
}

/** Poll tools.catalog until every MCP server is ready; returns the catalog. */
async function waitForServers(stack: Stack): Promise<any> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const res = await stack.client.request('tools.catalog', {});
    assert.ok(res.ok, JSON.stringify(res.error));
    const servers = (res.payload as any).mcp.servers as { state: string }[];
    if (servers.every((server) => server.state === 'ready' || server.state === 'disabled')) return res.payload;
    if (Date.now() > deadline) throw new Error(`MCP servers not ready: ${JSON.stringify(servers)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function chat(stack: Stack, message: string) {
  const sessionKey = `mcp-${randomUUID()}`;
  const runId = randomUUID();
  const res = await stack.client.request('chat.send', { sessionKey, message, idempotencyKey: runId });
  assert.ok(res.ok, JSON.stringify(res.error));
  const terminal = (await stack.client.waitFor(
    (f: AnyFrame) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId && ['final', 'aborted', 'error'].includes(f.payload?.state),
    WAIT_MS,
    'terminal chat event',
  )) as EventFrame;
  const events = stack.client.events.filter((e) => e.event === 'agent' && e.payload?.runId === runId);
  const history = await stack.client.request('chat.history', { sessionKey, limit: 100 });
  assert.ok(history.ok, JSON.stringify(history.error));
  return { terminal, events, messages: (history.payload as { messages: any[] }).messages };
}

function offeredTools(request: RecordedRequest | undefined): { name: string; schema: any }[] {
  const tools = (request?.body.tools ?? []) as any[];
  return tools.map((tool) => (tool.function === undefined ? { name: tool.name, schema: tool.input_schema } : { name: tool.function.name, schema: tool.function.parameters }));
}

function resultText(message: any): string {
  return message.content.map((block: any) => block.text ?? `[${block.type}]`).join('');
}

before(async () => {
  fake = await startFakeModelServer();
  http = await startMcpHttpServer({ bearer: REMOTE_TOKEN });
});

after(async () => {
  for (const stack of stacks) {
    await stack.client.close();
    await stack.gateway.close();
  }
  await http.close();
  await fake.close();
});

describe('MCP tools through the gateway (openai format)', () => {
  let stack: Stack;
  let catalog: any;
  before(async () => {
    stack = await startStack('openai', {
      maxOutputBytes: 2048,
      servers: {
        local: {
          command: process.execPath,
          args: [SERVER_SCRIPT, 'normal'],
          env: { LOCAL_SECRET },
          toolFilter: { exclude: ['admin_*'] },
          timeoutMs: 1_000,
        },
        remote: { url: http.url, headers: { Authorization: `Bearer ${REMOTE_TOKEN}` }, toolFilter: { include: ['add', 'echo', 'tricky'] } },
        off: { command: 'does-not-exist', enabled: false },
      },
    });
    catalog = await waitForServers(stack);
  });

  it('calls tools of both servers, streams the calls and stores the results', async () => {
    fake.reset();
    fake.enqueue(
      {
        text: 'Asking the servers.',
        toolCalls: [
          { id: 'm1', name: 'local__echo', arguments: { text: 'hi' } },
          { id: 'm2', name: 'remote__add', arguments: { a: 2, b: 3 } },
          { id: 'm3', name: 'local__picture', arguments: {} },
        ],
      },
      { text: 'Both answered.' },
    );
    const { terminal, events, messages } = await chat(stack, 'use the mcp tools');
    assert.equal(terminal.payload.state, 'final');

    const names = offeredTools(fake.requests[0]).map((tool) => tool.name);
    assert.ok(names.includes('read_file'), 'built-in tools are still offered');
    assert.ok(names.includes('local__echo') && names.includes('local__dotted_name_10c733ab'));
    assert.ok(!names.includes('local__admin_reset'), 'toolFilter.exclude hides a tool');
    assert.deepEqual(names.filter((name) => name.startsWith('remote__')), ['remote__echo', 'remote__add', 'remote__tricky']);
    assert.ok(!names.some((name) => name.startsWith('off__')));

    const results = messages.filter((m) => m.role === 'toolResult');
    assert.deepEqual(results.map((m) => [m.toolCallId, m.toolName, m.isError]), [
      ['m1', 'local__echo', false],
      ['m2', 'remote__add', false],
      ['m3', 'local__picture', false],
    ]);
    assert.equal(resultText(results[0]), 'echo: hi');
    assert.equal(resultText(results[1]), '5');
    assert.deepEqual(results[2].content, [
      { type: 'text', text: 'a picture:' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: TEST_PNG_BASE64 } },
    ]);
    assert.match(JSON.stringify(fake.requests[1]?.body.messages), /echo: hi[\s\S]*"5"/);

    const tool = events.map((e) => e.payload).filter((p) => p.stream === 'tool');
    const phases = tool.map((p) => `${p.data.phase} ${p.data.name}`);
    assert.deepEqual(phases.filter((p) => p.startsWith('start')), ['start local__echo', 'start remote__add', 'start local__picture']);
    assert.deepEqual(phases.filter((p) => p.startsWith('result')).sort(), ['result local__echo', 'result local__picture', 'result remote__add']);
    const echoResult = tool.find((p) => p.data.phase === 'result' && p.data.toolCallId === 'm1');
    assert.deepEqual(echoResult?.data.result, { content: [{ type: 'text', text: 'echo: hi' }] });
  });

  it('turns error results, JSON-RPC errors, timeouts and oversized output into results the model reads', async () => {
    fake.reset();
    fake.enqueue(
      {
        toolCalls: [
          { id: 'e1', name: 'local__fail', arguments: {} },
          { id: 'e2', name: 'local__throw', arguments: {} },
          { id: 'e3', name: 'local__slow', arguments: { ms: 5_000 } },
          { id: 'e4', name: 'local__big', arguments: { bytes: 100_000 } },
          { id: 'e5', name: 'remote__tricky', arguments: { name: 'n', at: { x: 1, y: 2 } } },
        ],
      },
      { text: 'Noted.' },
    );
    const { terminal, messages } = await chat(stack, 'break things');
    assert.equal(terminal.payload.state, 'final', 'tool failures never fail the run');
    const results = messages.filter((m) => m.role === 'toolResult');
    assert.deepEqual(results.map((m) => m.isError), [true, true, true, false, false]);
    assert.equal(resultText(results[0]), 'the widget is broken');
    assert.equal(resultText(results[1]), 'tool local__throw failed: MCP error -32603: kaput');
    assert.equal(resultText(results[2]), 'tool local__slow timed out: MCP server local gave no answer within 1 s');
    assert.equal(resultText(results[3]), `${'x'.repeat(2048)}[output truncated: ${100_000 - 2048} more bytes were dropped]`);
    assert.equal(resultText(results[4]), 'tricky ran with {"name":"n","at":{"x":1,"y":2}}');
  });

  it('sends schemas cleaned for the provider', async () => {
    const tricky = offeredTools(fake.requests[0]).find((tool) => tool.name === 'remote__tricky');
    assert.equal(tricky?.schema.type, 'object');
    assert.doesNotMatch(JSON.stringify(tricky?.schema), /\$ref|\$defs|\$schema|anyOf/);
    assert.deepEqual(tricky?.schema.properties.at.required, ['x', 'y']);
  });

  it('lists servers, their state and their tools in tools.catalog', () => {
    const groups = catalog.groups as any[];
    assert.equal(groups[0].id, 'core');
    assert.ok(groups[0].tools.some((tool: any) => tool.id === 'read_file' && tool.source === 'core'));
    const byId = new Map(groups.map((group) => [group.id, group]));
    assert.equal(byId.get('mcp:local')?.state, 'ready');
    assert.ok(byId.get('mcp:local')?.tools.some((tool: any) => tool.id === 'local__echo' && tool.label === 'echo' && tool.available));
    assert.deepEqual(byId.get('mcp:remote')?.tools.map((tool: any) => tool.id), ['remote__echo', 'remote__add', 'remote__tricky']);
    assert.equal(byId.get('mcp:off')?.state, 'disabled');
    const remote = catalog.mcp.servers.find((server: any) => server.name === 'remote');
    assert.equal(remote.transport, 'streamable-http');
    assert.equal(remote.filteredOut, 13);
  });

  it('keeps env and header values out of config.get and tools.catalog', async () => {
    const res = await stack.client.request('config.get', {});
    assert.ok(res.ok, JSON.stringify(res.error));
    const text = JSON.stringify(res.payload);
    assert.ok(!text.includes(LOCAL_SECRET) && !text.includes(REMOTE_TOKEN));
    const servers = (res.payload as any).runtimeConfig.mcp.servers;
    assert.deepEqual(servers.local.env, { LOCAL_SECRET: REDACTED_SENTINEL });
    assert.deepEqual(servers.remote.headers, { Authorization: REDACTED_SENTINEL });
    assert.ok(!JSON.stringify(catalog).includes(LOCAL_SECRET) && !JSON.stringify(catalog).includes(REMOTE_TOKEN));
  });
});

describe('MCP tools through the gateway (anthropic format)', () => {
  it('offers cleaned input schemas and runs the calls', async () => {
    const stack = await startStack('anthropic', {
      servers: { remote: { url: http.url, headers: { Authorization: `Bearer ${REMOTE_TOKEN}` }, toolFilter: { include: ['tricky', 'structured_only'] } } },
    });
    await waitForServers(stack);
    fake.reset();
    fake.enqueue(
      { toolCalls: [{ id: 'a1', name: 'remote__tricky', arguments: { id: 7 } }, { id: 'a2', name: 'remote__structured_only', arguments: {} }] },
      { text: 'done' },
    );
    const { terminal, messages } = await chat(stack, 'go');
    assert.equal(terminal.payload.state, 'final');
    const tricky = offeredTools(fake.requests[0]).find((tool) => tool.name === 'remote__tricky');
    assert.equal(tricky?.schema.type, 'object');
    assert.doesNotMatch(JSON.stringify(tricky?.schema), /\$ref|\$defs|\$schema|anyOf|oneOf|allOf/);
    const results = messages.filter((m) => m.role === 'toolResult');
    assert.deepEqual(results.map(resultText), ['tricky ran with {"id":7}', '{"ok":true,"items":[1,2]}']);
    assert.match(JSON.stringify(fake.requests[1]?.body.messages), /tool_result[\s\S]*tricky ran with/);
  });
});
