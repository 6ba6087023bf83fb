/**
 * The model never reaches the gateway's own files or files outside the
 * workspace through the file tools: the token, config and session files are
 * refused wherever the workspace is, and a file with a second hard link is
 * refused, while writes replace files by rename. Driven through a real
 * gateway with the fake model server issuing the tool calls.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { link, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBuiltinTools } from '../../src/agent/tools/builtin-tools.js';
import { gatewayOwnFiles } from '../../src/assistant.js';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/config/config-error.js';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeToolCall } from '../helpers/fake-model-types.js';
import { ProtocolClient, type AnyFrame } from '../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';

const WAIT_MS = 10_000;
const OUTSIDE_TEXT = 'outside the workspace: do not touch\n';

let root: string;
let workspace: string;
let outsideFile: string;
let configPath: string;
let fake: FakeModelServer;
let gateway: StartedGateway;
let client: ProtocolClient;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pincer-ws-files-'));
  workspace = join(root, 'project');
  await mkdir(workspace);
  outsideFile = join(root, 'outside.txt');
  await writeFile(outsideFile, OUTSIDE_TEXT);
  // The config file lives in the project the model works on.
  configPath = join(workspace, 'pincer.json');
  await writeFile(configPath, JSON.stringify({ logLevel: 'silent' }));
  fake = await startFakeModelServer();
  gateway = await startGateway({
    stateDir: join(root, 'state'),
    configPath,
    overrides: {
      provider: { kind: 'openai', baseUrl: fake.url, apiKey: 'k', model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 },
      agent: { workspaceDir: workspace },
    },
  });
  client = await ProtocolClient.open(gateway.wsUrl);
  assert.ok((await client.connect({ token: gateway.token })).ok);
});

after(async () => {
  await client?.close();
  await gateway?.close();
  await fake?.close();
  await rm(root, { recursive: true, force: true });
});

/** Let the model make these calls in one turn; return each result's text and error flag, in call order. */
async function callTools(calls: FakeToolCall[]): Promise<{ text: string; isError: boolean }[]> {
  fake.reset();
  fake.enqueue({ toolCalls: calls }, { text: 'done' });
  const sessionKey = `files-${randomUUID()}`;
  const runId = randomUUID();
  assert.ok((await client.request('chat.send', { sessionKey, message: 'go', idempotencyKey: runId })).ok);
  await client.waitFor(
    (f: AnyFrame) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId && f.payload?.state === 'final',
    WAIT_MS,
    'final chat event',
  );
  const history = await client.request('chat.history', { sessionKey, limit: 100 });
  const results = (history.payload as { messages: any[] }).messages.filter((m) => m.role === 'toolResult');
  const byId = new Map(results.map((m) => [m.toolCallId, { text: m.content.map((b: any) => b.text ?? '').join(''), isError: m.isError }]));
  return calls.map((call) => byId.get(call.id)!);
}

describe('the gateway\'s own files', () => {
  it('are refused by every file tool even when the config file sits in the workspace', async () => {
    const before = await readFile(configPath, 'utf8');
    const results = await callTools([
      { id: 'r', name: 'read_file', arguments: { path: 'pincer.json' } },
      { id: 'w', name: 'write_file', arguments: { path: 'pincer.json', content: '{"gateway":{"host":"0.0.0.0"}}' } },
      { id: 'e', name: 'edit_file', arguments: { path: 'pincer.json', old_text: 'silent', new_text: 'trace' } },
      { id: 'a', name: 'read_file', arguments: { path: configPath } },
    ]);
    for (const result of results) {
      assert.equal(result.isError, true, result.text);
      assert.match(result.text, /one of the gateway's own files/);
    }
    assert.equal(await readFile(configPath, 'utf8'), before);
  });

  it('refuse the token and session files when a workspace is the state directory', async () => {
    // The config loader refuses this placement (exit 78); the tools hold on their own as well.
    const stateDir = await mkdtemp(join(root, 'state-'));
    await writeFile(join(stateDir, 'token'), 'the-gateway-token\n');
    await mkdir(join(stateDir, 'sessions'));
    await writeFile(join(stateDir, 'sessions', 'main.jsonl'), '{"type":"session"}\n');
    assert.throws(
      () => loadConfig({ env: {}, flags: { stateDir }, overrides: { agent: { workspaceDir: stateDir } } }),
      (error: unknown) => error instanceof ConfigError && error.field === 'agent.workspaceDir' && error.exitCode === 78,
    );
    const config = loadConfig({ env: {}, flags: { stateDir } });
    const { executeTool } = createBuiltinTools({ ...config, agent: { ...config.agent, workspaceDir: stateDir } }, gatewayOwnFiles(config));
    const signal = new AbortController().signal;
    for (const path of ['token', 'sessions/main.jsonl', 'config.json']) {
      // A refused call throws ToolInputError; the agent loop turns it into an error result.
      await assert.rejects(executeTool({ id: path, name: 'read_file', arguments: { path } }, signal), /one of the gateway's own files/, path);
    }
  });
});

describe('hard links', () => {
  it('are refused by read_file, write_file and edit_file, and the file outside stays as it was', async () => {
    await link(outsideFile, join(workspace, 'linked.txt'));
    const results = await callTools([
      { id: 'r', name: 'read_file', arguments: { path: 'linked.txt' } },
      { id: 'w', name: 'write_file', arguments: { path: 'linked.txt', content: 'overwritten\n' } },
      { id: 'e', name: 'edit_file', arguments: { path: 'linked.txt', old_text: 'do not touch', new_text: 'touched' } },
    ]);
    const reached = results.filter((result) => !result.isError).length;
    console.log(`file tool calls through a hard link that worked: ${reached} of ${results.length}`);
    for (const result of results) assert.match(result.text, /has 2 hard links/);
    assert.equal(reached, 0);
    assert.equal(await readFile(outsideFile, 'utf8'), OUTSIDE_TEXT);
  });

  it('are never written through: write_file and edit_file replace the file by rename', async () => {
    const target = join(workspace, 'notes.txt');
    await writeFile(target, 'first\n', { mode: 0o640 });
    const inode = (await stat(target)).ino;
    const [written] = await callTools([{ id: 'w', name: 'write_file', arguments: { path: 'notes.txt', content: 'second\n' } }]);
    assert.equal(written!.isError, false, written!.text);
    const afterWrite = await stat(target);
    assert.notEqual(afterWrite.ino, inode, 'a new file took the name');
    assert.equal(afterWrite.mode & 0o777, 0o640, 'the mode is kept');
    const [edited] = await callTools([{ id: 'e', name: 'edit_file', arguments: { path: 'notes.txt', old_text: 'second', new_text: 'third' } }]);
    assert.equal(edited!.isError, false, edited!.text);
    assert.notEqual((await stat(target)).ino, afterWrite.ino);
    assert.equal(await readFile(target, 'utf8'), 'third\n');
  });
});
