/**
 * Choosing a model: models.list lists the configured chain, sessions.patch
 * { model } pins a session to one of them (strictly: no failover), the
 * choice survives a reset and a restart, and null returns to the chain.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeModelServer, type FakeModelServer } from '../../helpers/fake-model-server.js';
import type { ProtocolClient } from '../../helpers/protocol-client.js';
import type { StartedGateway } from '../../helpers/start-gateway.js';
import { okPayload, sendTurn, startConnectedGateway, stopConnectedGateway } from './e2e-setup.js';

/** Bound of one turn; generous because the first call of each kind loads its SDK, ms. */
const TURN_WAIT_MS = 30_000;

let first: FakeModelServer;
let second: FakeModelServer;
let stateDir: string;
let gateway: StartedGateway | undefined;
let client: ProtocolClient;

async function start(): Promise<void> {
  ({ gateway, client } = await startConnectedGateway({
    stateDir,
    overrides: {
      provider: {
        kind: 'openai',
        baseUrl: first.url,
        model: 'model-a',
        timeoutMs: 5_000,
        maxRetries: 0,
        fallbacks: [{ kind: 'anthropic', baseUrl: second.anthropicUrl, model: 'model-b' }],
      },
    },
  }));
}

async function stop(): Promise<void> {
  await stopConnectedGateway({ gateway, client });
  gateway = undefined;
}

/** Send a turn on the current client; resolves with its terminal chat payload. */
function send(sessionKey: string, message: string): Promise<any> {
  return sendTurn(client, sessionKey, message, TURN_WAIT_MS);
}

async function row(key: string): Promise<any> {
  const list = okPayload(await client.request('sessions.list', {}));
  return list.sessions.find((session: any) => session.key === key);
}

before(async () => {
  first = await startFakeModelServer({ defaultReply: { text: 'from A' } });
  second = await startFakeModelServer({ defaultReply: { text: 'from B' } });
  stateDir = await mkdtemp(join(tmpdir(), 'pincer-session-model-'));
  await start();
});
after(async () => {
  await stop();
  await first?.close();
  await second?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('models.list and agents.list', () => {
  it('list every configured model, primary first', async () => {
    const models = okPayload(await client.request('models.list', {}));
    assert.deepEqual(
      models.models.map((m: any) => [m.provider, m.id, m.available]),
      [
        ['openai', 'model-a', true],
        ['anthropic', 'model-b', true],
      ],
    );
    const agents = okPayload(await client.request('agents.list', {}));
    assert.deepEqual(agents.agents[0].model, { primary: 'openai/model-a', fallbacks: ['anthropic/model-b'] });
  });
});

describe('sessions.patch { model }', () => {
  it('pins a session to a configured model; its turns go to that model only', async () => {
    const patched = okPayload(await client.request('sessions.patch', { key: 'pinned', model: 'model-b' }));
    assert.equal(patched.entry.model, 'model-b');
    assert.equal(patched.entry.modelProvider, 'anthropic');
    first.reset();
    second.reset();
    const final = await send('pinned', 'hi');
    assert.equal(final.state, 'final');
    assert.equal(final.message.model, 'model-b');
    assert.equal(first.requests.length, 0);
    assert.equal(second.requests.length, 1);
    // Other sessions keep the configured chain.
    const other = await send('main', 'hello');
    assert.equal(other.message.model, 'model-a');
  });

  it('is strict: when the chosen model fails the turn fails instead of answering from another model', async () => {
    first.reset();
    second.reset();
    second.enqueue({ status: 500 });
    const final = await send('pinned', 'fail please');
    assert.equal(final.state, 'error');
    assert.match(final.errorMessage, /HTTP 500/);
    assert.equal(first.requests.length, 0);
  });

  it('refuses an unknown model, naming the configured ones, and leaves the session as it was', async () => {
    const res = await client.request('sessions.patch', { key: 'pinned', model: 'gpt-9' });
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.match(res.error?.message ?? '', /unknown model "gpt-9": configured models: openai\/model-a, anthropic\/model-b/);
    assert.equal((await row('agent:main:pinned')).model, 'model-b');
  });

  it('keeps the choice over a reset and a restart', async () => {
    okPayload(await client.request('sessions.reset', { key: 'pinned' }));
    assert.equal((await row('agent:main:pinned')).model, 'model-b');
    await stop();
    await start();
    assert.equal((await row('agent:main:pinned')).modelProvider, 'anthropic');
    second.reset();
    const final = await send('pinned', 'after restart');
    assert.equal(final.message.model, 'model-b');
    assert.equal(second.requests.length, 1);
  });

  it('null returns the session to the configured chain', async () => {
    const patched = okPayload(await client.request('sessions.patch', { key: 'pinned', model: null }));
    assert.equal(patched.entry.model, 'model-a');
    first.reset();
    const final = await send('pinned', 'back');
    assert.equal(final.message.model, 'model-a');
    assert.equal(first.requests.length, 1);
  });
});
