/**
 * Several agents in one gateway, on real sockets and real files: each agent
 * answers its own sessions with its own model, its own AGENTS.md/SOUL.md and
 * tools confined to its own workspace; an unknown agent is refused naming
 * it, over the OpenClaw protocol and the OpenAI-compatible API.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeModelServer, type FakeModelServer, type RecordedRequest } from '../../helpers/fake-model-server.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';
import { okPayload, sendTurn, waitTerminal } from './e2e-setup.js';

/** Bound of one turn; the first call loads the SDK, ms. */
const TURN_WAIT_MS = 30_000;

let modelA: FakeModelServer;
let modelB: FakeModelServer;
let stateDir: string;
let gateway: StartedGateway;
let client: ProtocolClient;

/** The system prompt the model was sent. */
function systemPromptOf(request: RecordedRequest): string {
  const messages = request.body.messages as { role: string; content: unknown }[];
  const system = messages.find((message) => message.role === 'system');
  return typeof system?.content === 'string' ? system.content : JSON.stringify(system?.content ?? '');
}

/** The model B script: write a file when asked to, then say what the tool answered. */
function writerScript(request: RecordedRequest) {
  const messages = request.body.messages as { role: string; content: unknown }[];
  const last = messages[messages.length - 1];
  if (last?.role === 'tool') return { text: `tool said: ${String(last.content)}` };
  const text = JSON.stringify(last?.content ?? '');
  const match = /WRITE ([^\s"\\]+)/.exec(text);
  if (match !== null) return { toolCalls: [{ name: 'write_file', arguments: { path: match[1], content: 'from the writer' } }] };
  return { text: 'from B' };
}

/** Send a turn on the current client; resolves with its terminal chat payload. */
function send(sessionKey: string, message: string): Promise<any> {
  return sendTurn(client, sessionKey, message, TURN_WAIT_MS);
}

before(async () => {
  modelA = await startFakeModelServer({ defaultReply: { text: 'from A' } });
  modelB = await startFakeModelServer({ defaultReply: writerScript });
  stateDir = await mkdtemp(join(tmpdir(), 'pincer-agents-'));
  await mkdir(join(stateDir, 'workspace'), { recursive: true });
  await mkdir(join(stateDir, 'workspace-writer'), { recursive: true });
  await writeFile(join(stateDir, 'workspace', 'AGENTS.md'), 'MAIN-INSTRUCTIONS: answer briefly.');
  await writeFile(join(stateDir, 'workspace-writer', 'AGENTS.md'), 'WRITER-INSTRUCTIONS: write well.');
  await writeFile(join(stateDir, 'workspace-writer', 'SOUL.md'), 'WRITER-SOUL: a careful poet.');
  gateway = await startGateway({
    stateDir,
    overrides: {
      provider: {
        kind: 'openai',
        baseUrl: modelA.url,
        model: 'model-a',
        timeoutMs: 5_000,
        maxRetries: 0,
        models: [{ kind: 'openai', baseUrl: modelB.url, model: 'model-b' }],
      },
      agents: {
        list: [
          { id: 'main', name: 'Main' },
          { id: 'writer', name: 'Writer', model: 'openai/model-b', identity: { name: 'Quill', emoji: '✍️' } },
        ],
      },
    },
  });
  client = await ProtocolClient.open(gateway.wsUrl);
  okPayload(await client.connect({ token: gateway.token }));
});

after(async () => {
  await client?.close();
  await gateway?.close();
  await modelA?.close();
  await modelB?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('two agents', () => {
  it('answer in their own sessions with their own model and prompt files', async () => {
    modelA.reset();
    modelB.reset();
    const main = await send('main', 'hello main');
    const writer = await send('agent:writer:main', 'hello writer');
    assert.equal(main.state, 'final');
    assert.equal(writer.state, 'final');
    assert.equal(main.message.model, 'model-a');
    assert.equal(writer.message.model, 'model-b');
    assert.equal(modelA.requests.length, 1);
    assert.equal(modelB.requests.length, 1);
    const mainPrompt = systemPromptOf(modelA.requests[0]);
    const writerPrompt = systemPromptOf(modelB.requests[0]);
    assert.match(mainPrompt, /MAIN-INSTRUCTIONS/);
    assert.doesNotMatch(mainPrompt, /WRITER/);
    assert.match(writerPrompt, /WRITER-INSTRUCTIONS/);
    assert.match(writerPrompt, /WRITER-SOUL/);
    assert.doesNotMatch(writerPrompt, /MAIN-INSTRUCTIONS/);
    const sessions = okPayload(await client.request('sessions.list', {})).sessions.map((row: any) => row.key);
    assert.ok(sessions.includes('agent:main:main'));
    assert.ok(sessions.includes('agent:writer:main'));
  });

  it("reports each agent's usage apart and refuses an unknown agent", async () => {
    const writerOnly = okPayload(await client.request('sessions.usage', { agentId: 'writer', days: 1 }));
    const keys = writerOnly.sessions.map((row: any) => row.key);
    assert.ok(keys.includes('agent:writer:main'), `writer's sessions: ${keys}`);
    assert.ok(writerOnly.sessions.every((row: any) => row.agentId === 'writer'), `rows: ${keys}`);
    const all = okPayload(await client.request('sessions.usage', { days: 1 }));
    const agents = all.aggregates.byAgent.map((row: any) => row.agentId).sort();
    assert.deepEqual(agents, ['main', 'writer']);
    const ghost = await client.request('usage.cost', { agentId: 'ghost' });
    assert.match(ghost.error?.message ?? '', /unknown agent: ghost/);
  });

  it("confine each agent's file tools to its own workspace", async () => {
    const inside = await send('agent:writer:tools', 'WRITE note.txt');
    assert.match(inside.message.content[0].text, /tool said: wrote 15 bytes to note.txt/);
    assert.equal(await readFile(join(stateDir, 'workspace-writer', 'note.txt'), 'utf8'), 'from the writer');

    // The main agent's workspace is a sibling in the state directory: out of the writer's reach.
    const escape = await send('agent:writer:tools', `WRITE ${join(stateDir, 'workspace', 'stolen.txt')}`);
    assert.match(escape.message.content[0].text, /outside the workspace|gateway's own files/);
    const relative = await send('agent:writer:tools', 'WRITE ../workspace/stolen.txt');
    assert.match(relative.message.content[0].text, /outside the workspace|gateway's own files/);
    assert.equal(existsSync(join(stateDir, 'workspace', 'stolen.txt')), false);
  });

  it('lists both agents; workspace paths only for operator.admin', async () => {
    const list = okPayload(await client.request('agents.list', {}));
    assert.equal(list.defaultId, 'main');
    assert.deepEqual(
      list.agents.map((agent: any) => [agent.id, agent.name, agent.model.primary, agent.workspace]),
      [
        ['main', 'Main', 'openai/model-a', join(stateDir, 'workspace')],
        ['writer', 'Writer', 'openai/model-b', join(stateDir, 'workspace-writer')],
      ],
    );
    assert.deepEqual(list.agents[1].identity, { name: 'Quill', emoji: '✍️' });
    const reader = await ProtocolClient.open(gateway.wsUrl);
    try {
      okPayload(await reader.connect({ token: gateway.token, scopes: ['operator.read'] }));
      const shown = okPayload(await reader.request('agents.list', {}));
      assert.deepEqual(shown.agents.map((agent: any) => agent.id), ['main', 'writer']);
      assert.equal(JSON.stringify(shown).includes(stateDir), false);
    } finally {
      await reader.close();
    }
  });
});

describe('agent.identity.get', () => {
  it("answers each agent's own identity", async () => {
    const writer = okPayload(await client.request('agent.identity.get', { agentId: 'writer' }));
    assert.deepEqual([writer.agentId, writer.name, writer.emoji, writer.nameSource], ['writer', 'Quill', '✍️', 'config']);
    const bySession = okPayload(await client.request('agent.identity.get', { sessionKey: 'agent:writer:main' }));
    assert.equal(bySession.name, 'Quill');
    const main = okPayload(await client.request('agent.identity.get', { agentId: 'main' }));
    assert.deepEqual([main.agentId, main.name], ['main', 'Main']);
    const ghost = await client.request('agent.identity.get', { agentId: 'ghost' });
    assert.match(ghost.error?.message ?? '', /unknown agent: ghost/);
  });
});

describe('an unknown agent', () => {
  it('is refused by chat.send, agent and sessions.patch, naming it', async () => {
    for (const [method, params] of [
      ['chat.send', { sessionKey: 'agent:ghost:main', message: 'hi', idempotencyKey: randomUUID() }],
      ['agent', { agentId: 'ghost', message: 'hi', idempotencyKey: randomUUID() }],
      ['sessions.patch', { key: 'agent:ghost:x', label: 'x' }],
      ['agents.files.list', { agentId: 'ghost' }],
    ] as const) {
      const res = await client.request(method, params);
      assert.equal(res.ok, false, method);
      assert.equal(res.error?.code, 'INVALID_REQUEST', method);
      assert.match(res.error?.message ?? '', /unknown agent: ghost/, method);
    }
  });

  it('agent { agentId } runs in that agent’s session', async () => {
    modelB.reset();
    const res = okPayload(await client.request('agent', { agentId: 'writer', message: 'hi there', idempotencyKey: randomUUID() }));
    assert.equal(res.sessionKey, 'agent:writer:main');
    assert.equal(res.agentId, 'writer');
    await waitTerminal(client, res.runId, TURN_WAIT_MS);
    assert.equal(modelB.requests.length, 1);
    const mixed = await client.request('agent', { agentId: 'writer', sessionKey: 'agent:main:main', message: 'hi', idempotencyKey: randomUUID() });
    assert.equal(mixed.ok, false);
    assert.match(mixed.error?.message ?? '', /belongs to agent main, not writer/);
  });
});

describe('the OpenAI-compatible API', () => {
  async function complete(model: string): Promise<Response> {
    return fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello over http' }] }),
    });
  }

  it('routes pincer:<agentId> and openclaw:<agentId> to that agent', async () => {
    for (const model of ['pincer:writer', 'openclaw:writer']) {
      modelA.reset();
      modelB.reset();
      const res = await complete(model);
      assert.equal(res.status, 200, model);
      const body = (await res.json()) as any;
      assert.equal(body.choices[0].message.content, 'from B', model);
      assert.equal(modelB.requests.length, 1, model);
      assert.equal(modelA.requests.length, 0, model);
    }
    const res = await complete('pincer');
    assert.equal(((await res.json()) as any).choices[0].message.content, 'from A');
  });

  it('lists every agent in /v1/models and refuses an unknown one naming it', async () => {
    const models = (await (await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${gateway.token}` } })).json()) as any;
    const ids = models.data.map((entry: any) => entry.id);
    assert.ok(ids.includes('pincer/writer') && ids.includes('openclaw/writer') && ids.includes('pincer/main'), ids.join(','));
    const res = await complete('pincer:ghost');
    assert.equal(res.status, 404);
    const body = (await res.json()) as any;
    assert.match(body.error.message, /unknown agent: ghost/);
    assert.equal(body.error.param, 'model');
  });
});
