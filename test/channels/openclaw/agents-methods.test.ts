/**
 * agents.list and agents.files.* on a real gateway and real files: the
 * single-agent shape (paths only for operator.admin), and an agent's files
 * confined to its workspace: only the allowed names, no traversal, no
 * symbolic or hard link out, atomic writes, expectedHash conflicts.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { link, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';
import { okPayload } from './e2e-setup.js';

let root: string;
let stateDir: string;
let workspace: string;
let outside: string;
let gateway: StartedGateway;
let admin: ProtocolClient;

async function connected(scopes: string[]): Promise<ProtocolClient> {
  const client = await ProtocolClient.open(gateway.wsUrl);
  okPayload(await client.connect({ token: gateway.token, scopes }));
  return client;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pincer-agent-files-'));
  stateDir = join(root, 'state');
  workspace = join(stateDir, 'workspace');
  outside = join(root, 'outside');
  await mkdir(workspace, { recursive: true });
  await mkdir(outside, { recursive: true });
  gateway = await startGateway({ stateDir, overrides: { provider: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'fake-model' } } });
  admin = await connected(['operator.admin']);
});

after(async () => {
  await admin?.close();
  await gateway?.close();
  await rm(root, { recursive: true, force: true });
});

describe('agents.list', () => {
  it('one agent, main, with its model; no workspace path for operator.read', async () => {
    const reader = await connected(['operator.read']);
    try {
      const p = okPayload(await reader.request('agents.list', {}));
      assert.deepEqual(p, { defaultId: 'main', mainKey: 'main', scope: 'per-sender', selectionRequired: false, agents: [{ id: 'main', kind: 'agent', model: { primary: 'openai/fake-model' } }] });
    } finally {
      await reader.close();
    }
    const shown = okPayload(await admin.request('agents.list', {}));
    assert.equal(shown.agents[0].workspace, workspace);
  });

  it('is refused without scopes', async () => {
    const none = await connected([]);
    try {
      assert.equal((await none.request('agents.list', {})).error?.code, 'FORBIDDEN');
    } finally {
      await none.close();
    }
  });

  it('has no model when no provider is configured', async () => {
    const bare = await startGateway({});
    try {
      const client = await ProtocolClient.open(bare.wsUrl);
      okPayload(await client.connect({ token: bare.token }));
      assert.deepEqual(okPayload(await client.request('agents.list', {})).agents, [{ id: 'main', kind: 'agent', workspace: join(bare.stateDir, 'workspace') }]);
      await client.close();
    } finally {
      await bare.close();
    }
  });
});

describe('agents.files.*', () => {
  it('list every allowed name, missing or not', async () => {
    await writeFile(join(workspace, 'AGENTS.md'), 'be kind');
    const p = okPayload(await admin.request('agents.files.list', { agentId: 'main' }));
    assert.equal(p.agentId, 'main');
    assert.equal(p.workspace, workspace);
    assert.deepEqual(
      p.files.map((file: any) => [file.name, file.missing]),
      [
        ['AGENTS.md', false],
        ['SOUL.md', true],
        ['TOOLS.md', true],
        ['IDENTITY.md', true],
        ['USER.md', true],
        ['HEARTBEAT.md', true],
        ['BOOTSTRAP.md', true],
        ['MEMORY.md', true],
      ],
    );
    assert.equal(p.files[0].size, 7);
  });

  it('set writes atomically and get reads it back with its hash', async () => {
    const set = okPayload(await admin.request('agents.files.set', { agentId: 'main', name: 'SOUL.md', content: 'a calm voice' }));
    assert.equal(set.ok, true);
    assert.equal(set.file.hash, sha256('a calm voice'));
    assert.equal(await readFile(join(workspace, 'SOUL.md'), 'utf8'), 'a calm voice');
    assert.deepEqual((await readdir(workspace)).filter((name) => name.endsWith('.tmp')), []);
    const got = okPayload(await admin.request('agents.files.get', { agentId: 'main', name: 'SOUL.md' }));
    assert.deepEqual([got.file.content, got.file.missing, got.file.hash, got.file.size], ['a calm voice', false, sha256('a calm voice'), 12]);
    const missing = okPayload(await admin.request('agents.files.get', { agentId: 'main', name: 'USER.md' }));
    assert.equal(missing.file.missing, true);
  });

  it('set with a stale expectedHash is refused and leaves the file alone', async () => {
    const res = await admin.request('agents.files.set', { agentId: 'main', name: 'SOUL.md', content: 'overwritten', expectedHash: sha256('something else') });
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.equal(res.error?.details?.type, 'agent_file_conflict');
    assert.equal(res.error?.details?.currentHash, sha256('a calm voice'));
    assert.equal(await readFile(join(workspace, 'SOUL.md'), 'utf8'), 'a calm voice');
    okPayload(await admin.request('agents.files.set', { agentId: 'main', name: 'SOUL.md', content: 'rebased', expectedHash: sha256('a calm voice') }));
    assert.equal(await readFile(join(workspace, 'SOUL.md'), 'utf8'), 'rebased');
  });

  it('refuse names that are not an agent file, traversal included', async () => {
    for (const name of ['../config.json', '../../outside/secret.txt', 'notes.md', 'AGENTS.md/../token', '/etc/passwd', 'sessions']) {
      for (const method of ['agents.files.get', 'agents.files.set']) {
        const res = await admin.request(method, { agentId: 'main', name, content: 'x' });
        assert.equal(res.error?.code, 'INVALID_REQUEST', `${method} ${name}`);
        assert.match(res.error?.message ?? '', /unsupported file/, `${method} ${name}`);
      }
    }
  });

  it('refuse a symbolic link, inside or out, for get and set', async () => {
    const secret = join(outside, 'secret.txt');
    await writeFile(secret, 'outside secret');
    await symlink(secret, join(workspace, 'USER.md'));
    await writeFile(join(workspace, 'notes.txt'), 'inside');
    await symlink(join(workspace, 'notes.txt'), join(workspace, 'TOOLS.md'));
    for (const name of ['USER.md', 'TOOLS.md']) {
      const get = await admin.request('agents.files.get', { agentId: 'main', name });
      assert.equal(get.error?.code, 'INVALID_REQUEST', name);
      assert.match(get.error?.message ?? '', /unsafe workspace file/, name);
      const set = await admin.request('agents.files.set', { agentId: 'main', name, content: 'replaced' });
      assert.equal(set.error?.code, 'INVALID_REQUEST', name);
    }
    assert.equal(await readFile(secret, 'utf8'), 'outside secret');
    assert.equal(await readFile(join(workspace, 'notes.txt'), 'utf8'), 'inside');
    assert.equal((await lstat(join(workspace, 'USER.md'))).isSymbolicLink(), true);
    const listed = okPayload(await admin.request('agents.files.list', { agentId: 'main' }));
    assert.equal(listed.files.find((file: any) => file.name === 'USER.md').missing, true);
  });

  it('refuse a hard link to a file outside the workspace', async () => {
    const target = join(outside, 'linked.txt');
    await writeFile(target, 'outside linked');
    await link(target, join(workspace, 'HEARTBEAT.md'));
    const get = await admin.request('agents.files.get', { agentId: 'main', name: 'HEARTBEAT.md' });
    assert.match(get.error?.message ?? '', /hard link/);
    const set = await admin.request('agents.files.set', { agentId: 'main', name: 'HEARTBEAT.md', content: 'replaced' });
    assert.match(set.error?.message ?? '', /hard link/);
    assert.equal(await readFile(target, 'utf8'), 'outside linked');
  });

  it('need operator.admin', async () => {
    const writer = await connected(['operator.read', 'operator.write']);
    try {
      for (const method of ['agents.files.list', 'agents.files.get', 'agents.files.set']) {
        const res = await writer.request(method, { agentId: 'main', name: 'AGENTS.md', content: 'x' });
        assert.equal(res.error?.code, 'FORBIDDEN', method);
      }
    } finally {
      await writer.close();
    }
  });
});
