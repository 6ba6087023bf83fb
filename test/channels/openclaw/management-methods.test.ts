/**
 * logs.tail, models.authStatus, system.info, system-presence, channels.status,
 * and the health/status/usage fields the Control UI reads, on a real gateway
 * with a real config file, compared with the keys OpenClaw 2026.9.6 answered
 * (test/fixtures/openclaw-control-ui-calls.json).
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REDACTED_SENTINEL } from '../../../src/security/redact-config.js';
import { createLogger } from '../../../src/util/logger.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';

const ROOT = new URL(import.meta.url.endsWith('.ts') ? '../../../' : '../../../../', import.meta.url);
const FIXTURE = fileURLToPath(new URL('test/fixtures/openclaw-control-ui-calls.json', ROOT));

const FILE_KEY = 'sk-file-key-management-0123456789';
const NEW_KEY = 'sk-new-key-written-by-a-client-42';
const OPTION_KEY = 'sk-ant-option-key-abcdef123456';

/**
 * Keys of OpenClaw's answers Pincer leaves out on purpose: filesystem paths, and
 * status blocks about parts Pincer does not have (a host desktop, worker
 * pools, a task audit, a shutdown budget, config include files and revisions).
 */
const OMITTED_KEYS: Record<string, readonly string[]> = {
  'system.info': ['diskPath'],
  status: ['hostDesktop', 'workerPools', 'taskAudit', 'shutdownBudget'],
  'config.get': ['path', 'includedPaths', 'includeProvenance', 'agentRosterIncludeOwned', 'bindingsIncludeOwned', 'resolved', 'legacyIssues', 'configRevisionHash', 'appliedConfigHash'],
};

interface RecordedCall {
  method: string;
  params: Record<string, unknown> | null;
  payloadKeys: string[] | 'array' | null;
}

/** Every string value in a JSON tree. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) strings(item, out);
  return out;
}

describe('management methods on a real gateway', () => {
  let dir: string;
  let configPath: string;
  let gateway: StartedGateway;
  let client: ProtocolClient;
  let calls: Map<string, RecordedCall>;
  const written: string[] = [];

  const request = async (method: string, params: unknown = {}) => {
    const res = await client.request(method, params);
    assert.equal(res.ok, true, `${method}: ${JSON.stringify(res.error)}`);
    return res.payload;
  };

  before(async () => {
    calls = new Map((JSON.parse(await readFile(FIXTURE, 'utf8')) as { calls: RecordedCall[] }).calls.map((call) => [call.method, call]));
    dir = await mkdtemp(join(tmpdir(), 'pincer-management-'));
    configPath = join(dir, 'config.json');
    await writeFile(
      configPath,
      JSON.stringify({ provider: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: FILE_KEY, model: 'fake-model' }, openaiHttp: { enabled: true } }),
      { mode: 0o600 },
    );
    // The gateway's own logger at info, its lines kept here as well as in the ring.
    const logger = createLogger({ level: 'info', write: (line) => written.push(line) });
    gateway = await startGateway({
      stateDir: join(dir, 'state'),
      configPath,
      logger,
      overrides: { provider: { fallbacks: [{ kind: 'anthropic', model: 'claude-haiku-4-5', apiKey: OPTION_KEY }] } },
    });
    client = await ProtocolClient.open(gateway.wsUrl);
    const hello = await client.connect({
      token: gateway.token,
      scopes: ['operator.admin'],
      client: { id: 'openclaw-control-ui', mode: 'webchat', version: '2026.9.6', platform: 'Linux x86_64', instanceId: 'ui-instance-1' },
    });
    assert.equal(hello.ok, true, JSON.stringify(hello.error));
  });
  after(async () => {
    await client?.close();
    await gateway?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers with at least the keys OpenClaw answered, less the documented omissions', async () => {
    const methods = ['health', 'status', 'system.info', 'channels.status', 'logs.tail', 'models.authStatus', 'models.list', 'usage.status', 'sessions.usage', 'config.get', 'config.schema'];
    for (const method of methods) {
      const call = calls.get(method);
      assert.ok(call !== undefined && Array.isArray(call.payloadKeys), `${method} is in the recording`);
      const payload = await request(method, call.params ?? {});
      const omitted = OMITTED_KEYS[method] ?? [];
      const missing = (call.payloadKeys as string[]).filter((key) => !omitted.includes(key) && !(key in payload));
      assert.deepEqual(missing, [], `${method} lacks keys OpenClaw sends`);
    }
    assert.ok(Array.isArray(await request('system-presence')), 'system-presence answers a list');
  });

  describe('logs.tail', () => {
    it('shows a line logged after a request, with the secret redacted', async () => {
      const first = await request('logs.tail', { limit: 5 });
      assert.equal(first.file, null);
      assert.equal(first.cursor, first.size);
      const { hash } = await request('config.get');
      await request('config.patch', { raw: JSON.stringify({ provider: { apiKey: NEW_KEY } }), baseHash: hash });
      // A message quoting a known secret is scrubbed when read, whatever its key.
      gateway.pincer.logger.warn(`client echoed ${gateway.token} back`);

      const next = await request('logs.tail', { cursor: first.cursor });
      assert.equal(next.reset, false);
      assert.ok(next.cursor > first.cursor);
      const records = next.lines.map((line: string) => JSON.parse(line));
      const written_ = records.find((record: { msg: string }) => record.msg === 'config written');
      assert.ok(written_, `the config write is logged: ${next.lines.join('\n')}`);
      assert.equal(written_.method, 'config.patch');
      assert.deepEqual(written_.changedPaths, ['provider.apiKey']);
      assert.equal(written_.changes['provider.apiKey'], '[redacted]');
      assert.ok(records.some((record: { msg: string }) => record.msg === `client echoed ${REDACTED_SENTINEL} back`));
      const text = next.lines.join('\n');
      for (const secret of [NEW_KEY, FILE_KEY, OPTION_KEY, gateway.token]) assert.equal(text.includes(secret), false, 'no secret in the tail');
      assert.ok(written.some((line) => line.includes('"config written"')), 'the same line went to the log output');

      const none = await request('logs.tail', { cursor: next.cursor });
      assert.deepEqual(none.lines, []);
      const limited = await request('logs.tail', { limit: 1 });
      assert.equal(limited.lines.length, 1);
      assert.equal(limited.truncated, true);
      const ahead = await request('logs.tail', { cursor: next.cursor + 1_000_000 });
      assert.equal(ahead.reset, true);
      const bad = await client.request('logs.tail', { limit: 0 });
      assert.equal(bad.error?.code, 'INVALID_REQUEST');
      assert.match(bad.error!.message, /limit/);
    });
  });

  describe('models.authStatus', () => {
    it('says where each provider key comes from, never the key', async () => {
      const p = await request('models.authStatus', { agentId: 'main' });
      assert.equal(typeof p.ts, 'number');
      const byAuth = new Map(p.providers.map((row: { authProvider: string }) => [row.authProvider, row]));
      assert.deepEqual(byAuth.get('openai'), {
        provider: 'openai@127.0.0.1:9',
        authProvider: 'openai',
        displayName: 'openai (127.0.0.1:9)',
        status: 'static',
        profiles: [],
        apiKey: { source: 'config' },
      });
      assert.deepEqual((byAuth.get('anthropic') as { apiKey: unknown }).apiKey, { source: 'env' });
      assert.deepEqual(p.providerCapabilities.map((row: { provider: string }) => row.provider), ['anthropic', 'openai']);
      const text = JSON.stringify(p);
      for (const secret of [FILE_KEY, NEW_KEY, OPTION_KEY]) assert.equal(text.includes(secret), false);
    });
  });

  describe('system.info and system-presence', () => {
    it('system.info: the host and process, with no path', async () => {
      const p = await request('system.info');
      assert.equal(p.port, gateway.port);
      assert.equal(p.pid, process.pid);
      assert.equal(p.nodeVersion, process.version);
      assert.ok(p.cpuCount >= 1);
      assert.ok(p.memoryTotalBytes > 0 && p.diskTotalBytes > 0);
      assert.equal(typeof p.eventLoop.utilization, 'number');
      assert.ok(p.processMemory.rssBytes > 0);
      assert.equal(strings(p).some((s) => s.startsWith('/') || s.includes(dir)), false, 'no path');
      const again = await request('system.info');
      assert.equal(again.processInstanceId, p.processInstanceId, 'one instance id per process');
    });

    it('system-presence: the gateway itself, then each connected client from its connect params', async () => {
      const list = await request('system-presence');
      assert.equal(list[0].mode, 'gateway');
      assert.equal(list[0].reason, 'self');
      const ui = list.find((entry: { clientId?: string }) => entry.clientId === 'openclaw-control-ui');
      assert.ok(ui, JSON.stringify(list));
      assert.equal(ui.mode, 'webchat');
      assert.equal(ui.version, '2026.9.6');
      assert.equal(ui.instanceId, 'ui-instance-1');
      assert.deepEqual(ui.roles, ['operator']);
      assert.ok(ui.scopes.includes('operator.admin'));
      const second = await ProtocolClient.open(gateway.wsUrl);
      await second.connect({ token: gateway.token, scopes: ['operator.read'], client: { id: 'cli', mode: 'cli' } });
      assert.equal((await request('system-presence')).length, list.length + 1);
      await second.close();
      // The closed client leaves the list once the server has seen the close.
      for (let i = 0; i < 100 && (await request('system-presence')).length !== list.length; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal((await request('system-presence')).length, list.length);
    });
  });

  describe('channels.status', () => {
    it('lists the real channels with their state; the OpenAI API counts its requests', async () => {
      const before_ = await request('channels.status', { probe: false, timeoutMs: 8000 });
      assert.deepEqual(before_.channelOrder, ['openclaw', 'openai-http', 'web']);
      assert.equal(before_.channelLabels.openclaw, 'OpenClaw WebSocket');
      assert.equal(before_.channels.openclaw.running, true);
      assert.ok(before_.channels.openclaw.connections >= 1);
      assert.equal(before_.channels['openai-http'].configured, true);
      assert.equal(before_.channels.web.basePath, '/');
      assert.deepEqual(before_.channelAccounts.web[0].accountId, 'default');
      assert.deepEqual(before_.statusIssues, []);
      const res = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${gateway.token}` } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const after_ = await request('channels.status', {});
      assert.equal(after_.channels['openai-http'].requests, before_.channels['openai-http'].requests + 1);
      assert.equal(typeof after_.channels['openai-http'].lastRequestAt, 'number');
    });
  });

  describe('health, status, models.list, usage', () => {
    it('health and status carry channels, heartbeat, event loop, memory and reload state', async () => {
      const health = await request('health');
      assert.deepEqual(health.channelOrder, ['openclaw', 'openai-http', 'web']);
      assert.deepEqual(health.plugins, { loaded: [], errors: [], unavailable: [] });
      // Earlier tests here may have written keys that wait for a restart (provider.apiKey).
      const waiting = health.configReload.pendingRestartPaths as string[];
      assert.equal(health.configReload.hotReloadStatus, waiting.length === 0 ? 'active' : 'restart-required');
      assert.equal(health.modelRuntime.degraded, false);
      assert.equal(health.heartbeatSeconds, 0);
      const status = await request('status');
      assert.deepEqual(status.heartbeat, { defaultAgentId: 'main', agents: [{ agentId: 'main', enabled: false, every: 'off', everyMs: 0 }] });
      assert.ok(status.channelSummary.includes('Web chat: running'));
      assert.equal(status.pid, process.pid);
      assert.ok(status.processMemory.heapUsedBytes > 0);

      const { hash } = await request('config.get');
      await request('config.patch', { raw: JSON.stringify({ gateway: { maxConnections: 100 } }), baseHash: hash });
      const pending = await request('health');
      assert.equal(pending.configReload.hotReloadStatus, 'restart-required');
      assert.deepEqual(pending.configReload.pendingRestartPaths, [...new Set([...waiting, 'gateway.maxConnections'])].sort());
    });

    it('models.list marks the primary as the default and offers no thinking levels beyond off', async () => {
      const p = await request('models.list', { view: 'configured', agentId: 'main' });
      assert.deepEqual(p.models.map((model: { id: string; tags: string[] }) => [model.id, model.tags]), [['fake-model', ['default']], ['claude-haiku-4-5', []]]);
      assert.deepEqual(p.defaultModels, { automaticUtilityModel: null });
    });

    it('usage.status says it is not refreshing, and sessions.usage has the cache and creator fields', async () => {
      assert.equal((await request('usage.status')).refreshing, false);
      const usage = await request('sessions.usage', calls.get('sessions.usage')!.params ?? {});
      assert.deepEqual(usage.creatorOptions, []);
      assert.equal(usage.cacheStatus.status, 'fresh');
      assert.deepEqual(usage.aggregates.byCreator, []);
    });
  });
});
