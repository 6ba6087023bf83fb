import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSystemMethods, type ModelInfo } from '../../../src/channels/openclaw/methods/system.js';
import type { MethodContext } from '../../../src/channels/openclaw/method-types.js';
import { startHarness, type Harness } from '../../helpers/openclaw-channel-harness.js';

const STARTED_AT = Date.now() - 5000;

const sessions = [
  { key: 'agent:main:newest', updatedAt: 3000 },
  { key: 'agent:main:main', updatedAt: 2000 },
  { key: 'agent:main:old', updatedAt: 1000 },
];

function methodsWith(model: ModelInfo | undefined) {
  return createSystemMethods({
    version: '1.2.3',
    startedAt: STARTED_AT,
    listSessions: () => sessions,
    model: () => model,
  });
}

describe('system methods over the socket', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ methods: methodsWith({ provider: 'fake', model: 'fake-model', contextTokens: 64_000 }) });
  });
  after(() => h.close());

  it('lists exactly the system methods in hello-ok', async () => {
    const client = await h.open();
    const res = await client.connect({ token: 'test-token-0123456789abcdef' });
    // agents.list moved to methods/agents.ts (test/channels/openclaw/agents-methods.test.ts).
    assert.deepEqual([...res.payload.features.methods].sort(), ['health', 'models.list', 'status']);
  });

  it('health: the Pincer shape with counts and no paths', async () => {
    const client = await h.connected({ scopes: ['operator.read'] });
    const res = await client.request('health', {});
    assert.equal(res.ok, true);
    const p = res.payload;
    assert.equal(p.ok, true);
    assert.equal(typeof p.ts, 'number');
    assert.equal(typeof p.durationMs, 'number');
    assert.equal(p.defaultAgentId, 'main');
    assert.deepEqual(p.agents, [{ agentId: 'main', isDefault: true, sessions: { count: 3, recent: [] } }]);
    assert.deepEqual(p.sessions, { count: 3, recent: [] });
    assert.deepEqual([p.channels, p.channelOrder, p.channelLabels, p.heartbeatSeconds], [{}, [], {}, 0]);
    assert.equal('path' in p.sessions, false);
  });

  it('status: runtime version, uptime, defaults and recent sessions', async () => {
    const client = await h.connected({ scopes: ['operator.read'] });
    const p = (await client.request('status')).payload;
    assert.equal(p.runtimeVersion, '1.2.3');
    assert.ok(p.uptimeMs >= 5000);
    assert.deepEqual(p.sessions, {
      count: 3,
      defaults: { model: 'fake-model', contextTokens: 64_000 },
      recent: sessions.map((s) => ({ key: s.key, updatedAt: s.updatedAt })),
    });
  });

  it('models.list: one row for the configured model', async () => {
    const client = await h.connected({ scopes: ['operator.read'] });
    const p = (await client.request('models.list', { view: 'all' })).payload;
    assert.deepEqual(p, {
      models: [
        {
          id: 'fake-model',
          name: 'fake-model',
          provider: 'fake',
          contextWindow: 64_000,
          reasoning: false,
          tags: ['default'],
          thinkingLevels: [{ id: 'off', label: 'off' }],
          thinkingDefault: 'off',
          manualSelectionAllowed: true,
          available: true,
        },
      ],
      defaultModels: { automaticUtilityModel: null },
      accountSelection: { kind: 'automatic', label: 'Automatic account selection' },
    });
  });

  it('all read methods are refused without scopes', async () => {
    const client = await h.connected({ scopes: [] });
    for (const method of ['health', 'status', 'models.list']) {
      assert.equal((await client.request(method)).error?.code, 'FORBIDDEN', method);
    }
  });
});

describe('system methods without a provider', () => {
  const ctx = {} as MethodContext;
  const table = methodsWith(undefined);

  it('models.list is empty', async () => {
    assert.deepEqual(await table['models.list']!.handler({}, ctx), {
      models: [],
      defaultModels: { automaticUtilityModel: null },
      accountSelection: { kind: 'automatic', label: 'Automatic account selection' },
    });
  });

  it('status reports null defaults', async () => {
    const status = (await table.status!.handler({}, ctx)) as { sessions: { defaults: unknown } };
    assert.deepEqual(status.sessions.defaults, { model: null, contextTokens: null });
  });
});
