import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSystemMethods, type ModelInfo } from '../../../src/channels/openclaw/methods/system.js';
import type { MethodContext } from '../../../src/channels/openclaw/method-types.js';
import { REDACTED_SENTINEL } from '../../../src/security/redact-config.js';
import { startHarness, type Harness } from '../../helpers/openclaw-channel-harness.js';

const STARTED_AT = Date.now() - 5000;

const sessions = [
  { key: 'agent:main:newest', updatedAt: 3000 },
  { key: 'agent:main:main', updatedAt: 2000 },
  { key: 'agent:main:old', updatedAt: 1000 },
];

const config = {
  gateway: { host: '127.0.0.1', port: 18789, allowedOrigins: [] },
  auth: { token: 'super-secret-token', password: 'pw' },
  provider: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-live-123', model: 'fake-model' },
  agent: { maxConcurrentRuns: 8, workspaceDir: '/home/user/workspace' },
  stateDir: '/home/user/.pincer',
};

function methodsWith(model: ModelInfo | undefined) {
  return createSystemMethods({
    version: '1.2.3',
    startedAt: STARTED_AT,
    listSessions: () => sessions,
    model: () => model,
    config: () => config,
  });
}

/** Every string value in a JSON tree. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) strings(item, out);
  return out;
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
    assert.deepEqual([...res.payload.features.methods].sort(), ['config.get', 'health', 'models.list', 'status']);
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
    assert.deepEqual(p, { models: [{ id: 'fake-model', name: 'fake-model', provider: 'fake', contextWindow: 64_000, reasoning: false, available: true }] });
  });

  it('config.get: needs admin', async () => {
    const client = await h.connected({ scopes: ['operator.read', 'operator.write'] });
    const res = await client.request('config.get');
    assert.equal(res.error?.code, 'FORBIDDEN');
    assert.equal(res.error?.message, 'missing scope: operator.admin');
  });

  it('config.get: secrets carry the OpenClaw sentinel and paths are gone', async () => {
    const client = await h.connected({ scopes: ['operator.admin'] });
    const res = await client.request('config.get');
    assert.equal(res.ok, true);
    const { config: shown, hash, valid, issues } = res.payload;
    assert.equal(valid, true);
    assert.deepEqual(issues, []);
    assert.match(hash, /^sha256:[A-Za-z0-9_-]{43}$/);
    assert.equal(shown.auth.token, REDACTED_SENTINEL);
    assert.equal(shown.auth.password, REDACTED_SENTINEL);
    assert.equal(shown.provider.apiKey, REDACTED_SENTINEL);
    assert.equal(shown.provider.model, 'fake-model');
    assert.equal(shown.gateway.port, 18789);
    assert.equal('workspaceDir' in shown.agent, false);
    assert.equal('stateDir' in shown, false);
    const text = JSON.stringify(res.payload);
    for (const secret of ['super-secret-token', 'sk-live-123', '"pw"']) assert.equal(text.includes(secret), false, secret);
    assert.equal(strings(res.payload).some((s) => s.startsWith('/')), false);
    // Redaction works on a copy.
    assert.equal(config.auth.token, 'super-secret-token');
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
    assert.deepEqual(await table['models.list']!.handler({}, ctx), { models: [] });
  });

  it('status reports null defaults', async () => {
    const status = (await table.status!.handler({}, ctx)) as { sessions: { defaults: unknown } };
    assert.deepEqual(status.sessions.defaults, { model: null, contextTokens: null });
  });
});
