/**
 * The built-in tools end to end: a real gateway, the fake model server
 * emitting tool calls in the OpenAI and the Anthropic format, and a protocol
 * client reading the agent tool stream, chat deltas and chat.history.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FileConfig } from '../../../src/config/schema.js';
import { startFakeModelServer } from '../../helpers/fake-model-server.js';
import type { FakeModelServer, RecordedRequest } from '../../helpers/fake-model-server.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import type { AnyFrame, EventFrame } from '../../helpers/protocol-client.js';
import { startGateway } from '../../helpers/start-gateway.js';
import type { StartedGateway } from '../../helpers/start-gateway.js';

const WAIT_MS = 10_000;

interface Stack {
  gateway: StartedGateway;
  client: ProtocolClient;
  workspace: string;
}

let fake: FakeModelServer;
let page: Server;
let pageUrl: string;
const stacks: Stack[] = [];

async function startStack(kind: 'openai' | 'anthropic', tools?: FileConfig['tools']): Promise<Stack> {
  const gateway = await startGateway({
    overrides: {
      provider: { kind, baseUrl: kind === 'openai' ? fake.url : fake.anthropicUrl, apiKey: 'k', model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 },
      ...(tools === undefined ? {} : { tools }),
    },
  });
  const client = await ProtocolClient.open(gateway.wsUrl);
  const stack = { gateway, client, workspace: join(gateway.stateDir, 'workspace') };
  stacks.push(stack);
  const res = await client.connect({ token: gateway.token });
  assert.ok(res.ok, JSON.stringify(res.error));
  return stack;
}

/** Send a message, wait for the terminal chat event, return it with the run's events and the history. */
async function chat(stack: Stack, message: string) {
  const sessionKey = `tools-${randomUUID()}`;
  const runId = randomUUID();
  const res = await stack.client.request('chat.send', { sessionKey, message, idempotencyKey: runId });
  assert.ok(res.ok, JSON.stringify(res.error));
  const terminal = (await stack.client.waitFor(
    (f: AnyFrame) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId && ['final', 'aborted', 'error'].includes(f.payload?.state),
    WAIT_MS,
    'terminal chat event',
  )) as EventFrame;
  const events = stack.client.events.filter((e) => (e.event === 'chat' || e.event === 'agent') && e.payload?.runId === runId);
  const history = await stack.client.request('chat.history', { sessionKey, limit: 100 });
  assert.ok(history.ok, JSON.stringify(history.error));
  return { terminal, events, messages: (history.payload as { messages: any[] }).messages };
}

function toolNames(request: RecordedRequest | undefined): string[] {
  const tools = (request?.body.tools ?? []) as { name?: string; function?: { name: string } }[];
  return tools.map((tool) => tool.name ?? tool.function?.name ?? '?');
}

function resultText(message: any): string {
  return message.content.map((block: any) => block.text ?? '').join('');
}

before(async () => {
  fake = await startFakeModelServer();
  page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('page on loopback'));
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/doc`;
});

after(async () => {
  for (const stack of stacks) {
    await stack.client.close();
    await stack.gateway.close();
  }
  await fake.close();
  page.closeAllConnections();
  await new Promise((resolve) => page.close(resolve));
});

for (const kind of ['openai', 'anthropic'] as const) {
  describe(`built-in tools through the gateway (${kind} format)`, () => {
    let stack: Stack;
    before(async () => {
      fake.reset();
      stack = await startStack(kind);
    });

    it('round-trips files in the workspace, with tool events, chat deltas and history rows', async () => {
      fake.reset();
      fake.enqueue(
        { text: 'Writing.', toolCalls: [{ id: 'w1', name: 'write_file', arguments: { path: 'notes/todo.txt', content: 'buy milk\n' } }] },
        { toolCalls: [{ id: 'r1', name: 'read_file', arguments: { path: 'notes/todo.txt' } }, { id: 'l1', name: 'list_dir', arguments: { path: 'notes' } }] },
        { text: 'All done.' },
      );
      const { terminal, events, messages } = await chat(stack, 'make a todo file');
      assert.equal(terminal.payload.state, 'final');
      assert.equal(await readFile(join(stack.workspace, 'notes', 'todo.txt'), 'utf8'), 'buy milk\n');
      assert.deepEqual(toolNames(fake.requests[0]), ['read_file', 'write_file', 'edit_file', 'list_dir', 'web_fetch', 'cron']);

      assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'toolResult', 'assistant', 'toolResult', 'toolResult', 'assistant']);
      assert.deepEqual(messages[1].content, [
        { type: 'text', text: 'Writing.' },
        { type: 'toolCall', id: 'w1', name: 'write_file', arguments: { path: 'notes/todo.txt', content: 'buy milk\n' } },
      ]);
      assert.equal(messages[1].stopReason, 'toolUse');
      const results = messages.filter((m) => m.role === 'toolResult');
      assert.deepEqual(results.map((m) => [m.toolCallId, m.toolName, m.isError]), [['w1', 'write_file', false], ['r1', 'read_file', false], ['l1', 'list_dir', false]]);
      assert.deepEqual(results.map(resultText), ['wrote 9 bytes to notes/todo.txt', 'buy milk\n', 'todo.txt (9 bytes)']);
      assert.deepEqual(messages[6].content, [{ type: 'text', text: 'All done.' }]);
      // The model saw the results of the parallel calls.
      assert.match(JSON.stringify(fake.requests[2]?.body.messages), /buy milk\\n[\s\S]*todo\.txt \(9 bytes\)/);

      const agent = events.filter((e) => e.event === 'agent').map((e) => e.payload);
      const tool = agent.filter((p) => p.stream === 'tool').map((p) => [p.data.phase, p.data.toolCallId, p.data.name]);
      // Parallel calls of one turn report results as they finish, so only the set of the last two is fixed.
      assert.deepEqual(tool.slice(0, 4), [['start', 'w1', 'write_file'], ['result', 'w1', 'write_file'], ['start', 'r1', 'read_file'], ['start', 'l1', 'list_dir']]);
      assert.deepEqual(tool.slice(4).map((t) => t.join(' ')).sort(), ['result l1 list_dir', 'result r1 read_file']);
      const readResult = agent.find((p) => p.stream === 'tool' && p.data.phase === 'result' && p.data.toolCallId === 'r1');
      assert.deepEqual(readResult?.data.result, { content: [{ type: 'text', text: 'buy milk\n' }] });
      assert.equal(readResult?.data.isError, false);
      const seqs = agent.map((p) => p.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'agent seq rises');
      assert.deepEqual(agent.at(-1)?.data.phase, 'end');
      const delta = events.find((e) => e.event === 'chat' && e.payload.state === 'delta' && e.payload.message.content.some((b: any) => b.type === 'toolCall'));
      assert.deepEqual(delta?.payload.message.content, messages[1].content, 'a chat delta carries the text and the tool call');
    });

    it('turns invalid JSON arguments, an unknown tool and an escaping path into error results the model sees', async () => {
      fake.reset();
      fake.enqueue(
        {
          toolCalls: [
            { id: 'b1', name: 'read_file', arguments: '{"path": "a.txt"' },
            { id: 'b2', name: 'shell', arguments: { command: 'ls' } },
            { id: 'b3', name: 'read_file', arguments: { path: '../../etc/passwd' } },
            { id: 'b4', name: 'exec', arguments: { command: 'echo hi' } },
          ],
        },
        { text: 'I could not.' },
      );
      const { terminal, messages } = await chat(stack, 'try bad things');
      assert.equal(terminal.payload.state, 'final');
      const results = messages.filter((m) => m.role === 'toolResult');
      assert.deepEqual(results.map((m) => m.isError), [true, true, true, true]);
      assert.match(resultText(results[0]), /invalid arguments for tool read_file: expected a JSON object/);
      assert.match(resultText(results[1]), /unknown tool: shell \(available: read_file, write_file, edit_file, list_dir, web_fetch, cron\)/);
      assert.match(resultText(results[2]), /path is outside the workspace: \.\.\/\.\.\/etc\/passwd/);
      // exec is off by default: not offered, and a call to it is refused.
      assert.match(resultText(results[3]), /unknown tool: exec/);
      assert.match(JSON.stringify(fake.requests[1]?.body.messages), /unknown tool: shell/);
    });
  });
}

describe('built-in tools through the gateway (options)', () => {
  let defaults: Stack;
  let custom: Stack;
  before(async () => {
    defaults = await startStack('openai');
    custom = await startStack('openai', {
      exec: { enabled: true, timeoutMs: 500, maxOutputBytes: 1024 * 1024 },
      webFetch: { allowPrivateNetwork: true },
      maxIterations: 3,
    });
  });

  it('runs exec when enabled, kills it at the timeout and refuses oversized output', async () => {
    fake.reset();
    fake.enqueue(
      {
        toolCalls: [
          { id: 'e1', name: 'exec', arguments: { command: 'echo made > made.txt && cat made.txt' } },
          { id: 'e2', name: 'exec', arguments: { command: 'sleep 20' } },
          { id: 'e3', name: 'exec', arguments: { command: 'head -c 300000 /dev/zero | tr "\\0" x' } },
        ],
      },
      { text: 'ok' },
    );
    const started = Date.now();
    const { terminal, messages } = await chat(custom, 'run things');
    assert.equal(terminal.payload.state, 'final');
    assert.ok(Date.now() - started < 8_000, 'the sleep was cut short');
    assert.ok(toolNames(fake.requests[0]).includes('exec'));
    const results = messages.filter((m) => m.role === 'toolResult');
    assert.equal(resultText(results[0]), 'made\n[exit code 0]');
    assert.equal(results[0].isError, false);
    assert.match(resultText(results[1]), /timed out after 500 ms; the command was killed/);
    assert.equal(results[1].isError, true);
    assert.match(resultText(results[2]), /tool exec output too large: \d+ characters \(limit 200000\)/);
    assert.equal(results[2].isError, true);
  });

  it('fetches a loopback page with the allowance and refuses it without', async () => {
    fake.reset();
    fake.setDefault((request) =>
      /page on loopback|refused/.test(JSON.stringify(request.body.messages)) ? { text: 'read it' } : { toolCalls: [{ id: 'f1', name: 'web_fetch', arguments: { url: pageUrl } }] },
    );
    const allowed = await chat(custom, 'fetch it');
    const refused = await chat(defaults, 'fetch it');
    fake.reset();
    const allowedResult = allowed.messages.find((m) => m.role === 'toolResult');
    assert.equal(allowedResult.isError, false);
    assert.match(resultText(allowedResult), /Status: 200 OK[\s\S]*page on loopback$/);
    const refusedResult = refused.messages.find((m) => m.role === 'toolResult');
    assert.equal(refusedResult.isError, true);
    assert.match(resultText(refusedResult), /refused: 127\.0\.0\.1 is a loopback address/);
  });

  it('ends a model that keeps calling tools at the iteration cap with a clear message', async () => {
    for (const [stack, cap] of [[defaults, 20], [custom, 3]] as const) {
      fake.reset();
      fake.setDefault({ toolCalls: [{ name: 'list_dir', arguments: {} }] });
      const { terminal, messages } = await chat(stack, 'loop forever');
      const calls = fake.requests.length;
      fake.reset();
      assert.equal(calls, cap);
      assert.equal(terminal.payload.state, 'error');
      assert.match(terminal.payload.errorMessage, new RegExp(`stopped after ${cap} model calls: the model kept calling tools`));
      const last = messages.at(-1);
      assert.equal(last.role, 'assistant');
      assert.equal(last.stopReason, 'error');
      assert.match(resultText(messages.at(-2)), new RegExp(`not run: the limit of ${cap} model calls per run was reached`));
    }
  });

  it('reads a file the operator put in the workspace', async () => {
    await writeFile(join(defaults.workspace, 'hello.txt'), 'from the operator');
    fake.reset();
    fake.enqueue({ toolCalls: [{ name: 'read_file', arguments: { path: join(defaults.workspace, 'hello.txt') } }] }, { text: 'ok' });
    const { messages } = await chat(defaults, 'read hello');
    assert.equal(resultText(messages.find((m) => m.role === 'toolResult')), 'from the operator');
  });
});
