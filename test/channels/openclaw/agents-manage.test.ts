/**
 * agents.create, agents.update and agents.delete on a real gateway: the
 * config file changes (validated, atomic), the change applies without a
 * restart, a new agent chats at once, a deleted agent's sessions stay on
 * disk and come back with the agent, and a restart reads the written file.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeModelServer, type FakeModelServer } from '../../helpers/fake-model-server.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import type { StartedGateway } from '../../helpers/start-gateway.js';
import { okPayload, sendTurn, startConnectedGateway, stopConnectedGateway } from './e2e-setup.js';

const TURN_WAIT_MS = 30_000;

let modelA: FakeModelServer;
let modelB: FakeModelServer;
let stateDir: string;
let configPath: string;
let gateway: StartedGateway | undefined;
let client: ProtocolClient;

async function start(): Promise<void> {
  ({ gateway, client } = await startConnectedGateway({ stateDir }));
}

async function stop(): Promise<void> {
  await stopConnectedGateway({ gateway, client });
  gateway = undefined;
}

/** Send a turn on the current client; resolves with its terminal chat payload. */
function send(sessionKey: string, message: string): Promise<any> {
  return sendTurn(client, sessionKey, message, TURN_WAIT_MS);
}

async function fileConfig(): Promise<any> {
  return JSON.parse(await readFile(configPath, 'utf8'));
}

before(async () => {
  modelA = await startFakeModelServer({ defaultReply: { text: 'from A' } });
  modelB = await startFakeModelServer({ defaultReply: { text: 'from B' } });
  stateDir = await mkdtemp(join(tmpdir(), 'pincer-agents-manage-'));
  configPath = join(stateDir, 'config.json');
  await writeFile(
    configPath,
    JSON.stringify({
      provider: { kind: 'openai', baseUrl: modelA.url, model: 'model-a', maxRetries: 0, models: [{ kind: 'openai', baseUrl: modelB.url, model: 'model-b' }] },
    }),
  );
  await start();
});

after(async () => {
  await stop();
  await modelA?.close();
  await modelB?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('agents.create', () => {
  it('adds an agent to the config file, creates its workspace, and it chats at once', async () => {
    const created = okPayload(await client.request('agents.create', { name: 'Research Bot', model: 'openai/model-b', emoji: '🔬' }));
    assert.deepEqual(created, { ok: true, agentId: 'research-bot', name: 'Research Bot', workspace: join(stateDir, 'workspace-research-bot'), model: 'openai/model-b' });
    assert.deepEqual((await fileConfig()).agents.list, [{ id: 'research-bot', name: 'Research Bot', model: 'openai/model-b', identity: { emoji: '🔬' } }]);
    assert.ok(existsSync(join(stateDir, 'workspace-research-bot')));
    const listed = okPayload(await client.request('agents.list', {}));
    assert.deepEqual(listed.agents.map((agent: any) => agent.id), ['main', 'research-bot']);

    okPayload(await client.request('agents.files.set', { agentId: 'research-bot', name: 'AGENTS.md', content: 'RESEARCH-RULES' }));
    modelB.reset();
    const reply = await send('agent:research-bot:main', 'find things');
    assert.equal(reply.state, 'final');
    assert.equal(reply.message.model, 'model-b');
    assert.equal(modelB.requests.length, 1);
    assert.match(JSON.stringify(modelB.requests[0].body.messages), /RESEARCH-RULES/);
  });

  it('refuses a taken or reserved id and a model that is not configured, leaving the file as it was', async () => {
    const before = await readFile(configPath, 'utf8');
    const taken = await client.request('agents.create', { name: 'research bot' });
    assert.match(taken.error?.message ?? '', /agent "research-bot" already exists/);
    const reserved = await client.request('agents.create', { name: 'Main' });
    assert.match(reserved.error?.message ?? '', /"main" is reserved/);
    const badModel = await client.request('agents.create', { name: 'Other', model: 'openai/nope' });
    assert.equal(badModel.error?.code, 'INVALID_REQUEST');
    assert.match(badModel.error?.message ?? '', /agents\.list\[1\]\.model.*"openai\/nope" is not a configured model/);
    const badWorkspace = await client.request('agents.create', { name: 'Sneaky', workspace: join(stateDir, 'sessions') });
    assert.match(badWorkspace.error?.message ?? '', /agents\.list\[1\]\.workspace.*inside the state directory/);
    assert.equal(await readFile(configPath, 'utf8'), before);
    assert.deepEqual(okPayload(await client.request('agents.list', {})).agents.map((agent: any) => agent.id), ['main', 'research-bot']);
  });

  it('needs operator.admin', async () => {
    const writer = await ProtocolClient.open(gateway!.wsUrl);
    try {
      okPayload(await writer.connect({ token: gateway!.token, scopes: ['operator.write'] }));
      for (const method of ['agents.create', 'agents.update', 'agents.delete']) {
        assert.equal((await writer.request(method, { name: 'x', agentId: 'research-bot' })).error?.code, 'FORBIDDEN', method);
      }
    } finally {
      await writer.close();
    }
  });
});

describe('agents.update', () => {
  it('changes the name and model in the file and at once', async () => {
    okPayload(await client.request('agents.update', { agentId: 'research-bot', name: 'Researcher', model: 'openai/model-a', avatar: 'R' }));
    const entry = (await fileConfig()).agents.list[0];
    assert.deepEqual(entry, { id: 'research-bot', name: 'Researcher', model: 'openai/model-a', identity: { emoji: '🔬', avatar: 'R' } });
    modelA.reset();
    const reply = await send('agent:research-bot:main', 'again');
    assert.equal(reply.message.model, 'model-a');
    assert.equal(modelA.requests.length, 1);
    const unknown = await client.request('agents.update', { agentId: 'ghost', name: 'x' });
    assert.match(unknown.error?.message ?? '', /unknown agent: ghost/);
  });
});

describe('agents.delete', () => {
  it('keeps the sessions on disk, moves the workspace to the trash, and refuses the agent after', async () => {
    // The session index is rewritten in the background whenever it likes; the sessions are the other files.
    const listSessionFiles = async (): Promise<string[]> =>
      (await readdir(join(stateDir, 'sessions'))).filter((name) => !name.startsWith('index.json')).sort();
    const sessionFiles = await listSessionFiles();
    const deleted = okPayload(await client.request('agents.delete', { agentId: 'research-bot' }));
    assert.equal(deleted.ok, true);
    assert.equal(deleted.sessionsKept, 1);
    assert.match(deleted.workspaceMovedTo, new RegExp(`^${join(stateDir, 'trash', 'research-bot-')}`));
    assert.equal(await readFile(join(deleted.workspaceMovedTo, 'AGENTS.md'), 'utf8'), 'RESEARCH-RULES');
    assert.equal(existsSync(join(stateDir, 'workspace-research-bot')), false);
    assert.deepEqual((await fileConfig()).agents.list, []);
    assert.deepEqual(await listSessionFiles(), sessionFiles);

    const keys = okPayload(await client.request('sessions.list', {})).sessions.map((row: any) => row.key);
    assert.equal(keys.includes('agent:research-bot:main'), false);
    const refused = await client.request('chat.send', { sessionKey: 'agent:research-bot:main', message: 'hi', idempotencyKey: randomUUID() });
    assert.match(refused.error?.message ?? '', /unknown agent: research-bot/);
  });

  it('brings the sessions back when an agent with that id is created again', async () => {
    okPayload(await client.request('agents.create', { name: 'research-bot' }));
    const keys = okPayload(await client.request('sessions.list', {})).sessions.map((row: any) => row.key);
    assert.ok(keys.includes('agent:research-bot:main'));
    const history = okPayload(await client.request('chat.history', { sessionKey: 'agent:research-bot:main' }));
    assert.ok(history.messages.length >= 4, `history kept: ${history.messages.length} messages`);
  });

  it('refuses to delete main', async () => {
    const res = await client.request('agents.delete', { agentId: 'main' });
    assert.match(res.error?.message ?? '', /"main" cannot be deleted/);
  });

  it('deleteFiles: false leaves the workspace in place', async () => {
    const deleted = okPayload(await client.request('agents.delete', { agentId: 'research-bot', deleteFiles: false }));
    assert.equal(deleted.workspaceKept, join(stateDir, 'workspace-research-bot'));
    assert.ok(existsSync(join(stateDir, 'workspace-research-bot')));
  });
});

describe('after a restart', () => {
  it('the written agents are there', async () => {
    okPayload(await client.request('agents.create', { name: 'Keeper', model: 'openai/model-b' }));
    await stop();
    await start();
    const listed = okPayload(await client.request('agents.list', {}));
    assert.deepEqual(listed.agents.map((agent: any) => [agent.id, agent.model?.primary]), [
      ['main', 'openai/model-a'],
      ['keeper', 'openai/model-b'],
    ]);
  });
});
