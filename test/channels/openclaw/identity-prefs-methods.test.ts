/**
 * agent.identity.get (config, then the workspace's IDENTITY.md, then
 * "Assistant") and users.prefs.get/set (compare-and-set, kept on disk across
 * restarts), on real gateways.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIdentityFile } from '../../../src/assistant/identity.js';
import { CONTROL_UI_PREFS_FILE } from '../../../src/channels/openclaw/index.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';
import { okPayload } from './e2e-setup.js';

const gateways: StartedGateway[] = [];
const clients: ProtocolClient[] = [];
let stateDir: string;

before(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'pincer-identity-'));
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(gateways.map((g) => g.close()));
  await rm(stateDir, { recursive: true, force: true });
});

async function connect(gateway: StartedGateway, scopes = ['operator.admin']): Promise<ProtocolClient> {
  const client = await ProtocolClient.open(gateway.wsUrl);
  clients.push(client);
  const res = await client.connect({ token: gateway.token, scopes });
  assert.equal(res.ok, true);
  return client;
}

async function start(options: Parameters<typeof startGateway>[0] = {}): Promise<StartedGateway> {
  const gateway = await startGateway(options);
  gateways.push(gateway);
  return gateway;
}

describe('agent.identity.get', () => {
  it("answers OpenClaw's default when nothing names the assistant", async () => {
    const gateway = await start();
    const client = await connect(gateway);
    const payload = okPayload(await client.request('agent.identity.get', { agentId: 'main' }));
    assert.deepEqual(payload, { agentId: 'main', name: 'Assistant', nameSource: 'default', avatar: 'A' });
  });

  it("reads the workspace's IDENTITY.md, and sees it change without a restart", async () => {
    const gateway = await start();
    const client = await connect(gateway, ['operator.read']);
    const workspace = join(gateway.stateDir, 'workspace');
    await mkdir(workspace, { recursive: true });
    await writeFile(join(workspace, 'IDENTITY.md'), '# IDENTITY.md\n\n- **Name:** Clawd\n- **Creature:** a crab\n- **Emoji:** 🦀\n- **Avatar:** avatars/clawd.png\n');
    let payload = okPayload(await client.request('agent.identity.get', {}));
    assert.deepEqual(payload, { agentId: 'main', name: 'Clawd', nameSource: 'workspace', avatar: '🦀', emoji: '🦀' });
    await writeFile(join(workspace, 'IDENTITY.md'), '- **Name:** Pinchy\n- **Avatar:** https://example.test/pinchy.png\n');
    payload = okPayload(await client.request('agent.identity.get', { sessionKey: 'agent:main:main' }));
    assert.deepEqual(payload, { agentId: 'main', name: 'Pinchy', nameSource: 'workspace', avatar: 'https://example.test/pinchy.png' });
  });

  it('prefers agent.identity from the config over the workspace file', async () => {
    const gateway = await start({ overrides: { agent: { identity: { name: 'Pincer', avatar: 'https://example.test/p.png' } } } });
    const workspace = join(gateway.stateDir, 'workspace');
    await mkdir(workspace, { recursive: true });
    await writeFile(join(workspace, 'IDENTITY.md'), '- **Name:** Clawd\n');
    const client = await connect(gateway);
    const payload = okPayload(await client.request('agent.identity.get', { agentId: 'main' }));
    assert.deepEqual(payload, { agentId: 'main', name: 'Pincer', nameSource: 'config', avatar: 'https://example.test/p.png' });
  });

  it('refuses an agent that is not configured', async () => {
    const gateway = await start();
    const client = await connect(gateway);
    const res = await client.request('agent.identity.get', { agentId: 'nobody' });
    assert.equal(res.error?.details?.code, 'UNKNOWN_AGENT');
  });

  it('refuses a config avatar that is a file path, naming the key', async () => {
    await assert.rejects(start({ overrides: { agent: { identity: { avatar: 'avatars/me.png' } } } }), /agent\.identity\.avatar/);
  });

  it('skips template placeholders in IDENTITY.md', () => {
    assert.deepEqual(parseIdentityFile('- **Name:** _(pick something you like)_\n- **Emoji:** 🦞\n**Name:** Second\n'), { emoji: '🦞', name: 'Second' });
  });
});

describe('users.prefs', () => {
  it('stores entries, answers only the keys asked for, and deletes with null', async () => {
    const gateway = await start({ stateDir });
    const client = await connect(gateway);
    assert.deepEqual(okPayload(await client.request('users.prefs.get', { keys: ['ui.theme', 'ui.accent'] })), { status: 'ok', entries: {} });
    assert.deepEqual(okPayload(await client.request('users.prefs.set', { entries: { 'ui.theme': 'knot', 'ui.density': { compact: true } } })), { status: 'ok' });
    assert.deepEqual(okPayload(await client.request('users.prefs.get', { keys: ['ui.theme', 'ui.accent'] })), { status: 'ok', entries: { 'ui.theme': 'knot' } });
    okPayload(await client.request('users.prefs.set', { entries: { 'ui.theme': null } }));
    assert.deepEqual(okPayload(await client.request('users.prefs.get', {})), { status: 'ok', entries: { 'ui.density': { compact: true } } });
  });

  it('writes only when the expected entries still hold (compare-and-set)', async () => {
    const gateway = gateways.at(-1)!;
    const client = await connect(gateway);
    const first = okPayload(await client.request('users.prefs.set', { entries: { 'new-session.migration.v1': true }, expectedEntries: { 'new-session.migration.v1': null } }));
    assert.deepEqual(first, { status: 'ok' });
    const second = okPayload(await client.request('users.prefs.set', { entries: { 'new-session.migration.v1': false }, expectedEntries: { 'new-session.migration.v1': null } }));
    assert.deepEqual(second, { status: 'conflict', entries: { 'new-session.migration.v1': true } });
    const stored = okPayload(await client.request('users.prefs.get', { keys: ['new-session.migration.v1'] }));
    assert.deepEqual(stored.entries, { 'new-session.migration.v1': true });
  });

  it('keeps them on disk, owner-only, across a restart', async () => {
    await gateways.pop()!.close();
    const mode = (await stat(join(stateDir, CONTROL_UI_PREFS_FILE))).mode & 0o777;
    assert.equal(mode, 0o600);
    const gateway = await start({ stateDir });
    const client = await connect(gateway, ['operator.read']);
    const stored = okPayload(await client.request('users.prefs.get', {}));
    assert.deepEqual(stored.entries, { 'ui.density': { compact: true }, 'new-session.migration.v1': true });
    const res = await client.request('users.prefs.set', { entries: { a: 1 } });
    assert.equal(res.error?.message, 'missing scope: operator.write');
  });

  it('refuses entries that are not an object and a store over its size limit', async () => {
    const client = await connect(gateways.at(-1)!);
    const bad = await client.request('users.prefs.set', { entries: ['ui.theme'] });
    assert.match(bad.error!.message, /^invalid users\.prefs\.set params: .*entries/);
    const big = await client.request('users.prefs.set', { entries: { huge: 'x'.repeat(300 * 1024) } });
    assert.match(big.error!.message, /^invalid users\.prefs\.set params: at \/entries: preferences are limited/);
  });
});
