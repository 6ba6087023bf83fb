import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load-config.js';
import { createLogger } from '../../../src/util/logger.js';
import { REDACTED_SENTINEL } from '../../../src/security/redact-config.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';

const API_KEY = 'sk-live-config-test-0123456789';
const FALLBACK_KEY = 'sk-fallback-config-test-98765';

/** A config file with secrets, a path and a fallback, as a user would write it. */
function fileContent(workspaceDir: string) {
  return {
    gateway: { maxConnections: 64 },
    provider: {
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKey: API_KEY,
      model: 'fake-model',
      fallbacks: [{ kind: 'anthropic', model: 'claude-haiku-4-5', apiKey: FALLBACK_KEY }],
    },
    agent: { workspaceDir, maxConcurrentRuns: 4 },
    logLevel: 'warn',
  };
}

/** Every string value in a JSON tree. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) strings(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) strings(item, out);
  return out;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('config methods on a real gateway', () => {
  let dir: string;
  let configPath: string;
  let gateway: StartedGateway;
  const clients: ProtocolClient[] = [];

  const admin = async (scopes = ['operator.admin']) => {
    const client = await ProtocolClient.open(gateway.wsUrl);
    clients.push(client);
    const res = await client.connect({ token: gateway.token, scopes });
    assert.equal(res.ok, true, JSON.stringify(res.error));
    return client;
  };
  const writeFresh = async () => {
    await writeFile(configPath, `${JSON.stringify(fileContent(join(dir, 'work')), null, 2)}\n`, { mode: 0o600 });
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pincer-config-methods-'));
    configPath = join(dir, 'config.json');
    await writeFresh();
    // No --log-level flag, so the file's logLevel is in force and a write can change it; lines go nowhere.
    const logger = createLogger({ level: 'warn', write: () => undefined });
    gateway = await startGateway({ stateDir: join(dir, 'state'), configPath, logLevel: null, logger });
  });
  after(async () => {
    for (const client of clients) await client.close();
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('config.get', () => {
    it('needs admin', async () => {
      const client = await admin(['operator.read', 'operator.write']);
      const res = await client.request('config.get');
      assert.equal(res.error?.code, 'FORBIDDEN');
      assert.equal(res.error?.message, 'missing scope: operator.admin');
    });

    it('shows the file with secrets and paths masked, its hash, and the config in force without paths', async () => {
      await writeFresh();
      const client = await admin();
      const res = await client.request('config.get');
      assert.equal(res.ok, true);
      const p = res.payload;
      assert.equal(p.exists, true);
      assert.equal(p.valid, true);
      assert.deepEqual(p.issues, []);
      assert.equal(p.hash, sha256(await readFile(configPath, 'utf8')), 'hash is SHA-256 hex of the bytes');
      assert.equal(p.config.provider.apiKey, REDACTED_SENTINEL);
      assert.equal(p.config.provider.fallbacks[0].apiKey, REDACTED_SENTINEL);
      assert.equal(p.config.agent.workspaceDir, REDACTED_SENTINEL);
      assert.equal(p.config.provider.model, 'fake-model');
      assert.deepEqual(JSON.parse(p.raw), p.config);
      assert.equal(p.runtimeConfig.auth.token, REDACTED_SENTINEL);
      assert.equal(p.runtimeConfig.provider.apiKey, REDACTED_SENTINEL);
      assert.equal(p.runtimeConfig.gateway.maxConnections, 64);
      assert.equal('workspaceDir' in p.runtimeConfig.agent, false);
      assert.equal('stateDir' in p.runtimeConfig, false);
      const text = JSON.stringify(p);
      for (const secret of [API_KEY, FALLBACK_KEY, gateway.token]) assert.equal(text.includes(secret), false, secret);
      assert.equal(strings(p).some((s) => s.startsWith('/')), false, 'no absolute path');
    });
  });

  describe('config.set / config.patch / config.apply', () => {
    it('refuses a write without baseHash while the file exists, and the file stays byte-identical', async () => {
      await writeFresh();
      const before = await readFile(configPath);
      const client = await admin();
      const res = await client.request('config.patch', { raw: JSON.stringify({ logLevel: 'error' }) });
      assert.equal(res.ok, false);
      assert.equal(res.error?.details?.code, 'CONFIG_CHANGED');
      assert.equal(res.error?.details?.reason, 'hash-required');
      assert.equal(res.error?.details?.currentHash, sha256(before.toString('utf8')));
      assert.deepEqual(await readFile(configPath), before);
    });

    it('two writers with the same baseHash: one wins, the other gets the stale-hash error; the file stays valid and 0600', async () => {
      await writeFresh();
      const [a, b] = [await admin(), await admin()];
      const { hash } = (await a.request('config.get')).payload;
      const [resA, resB] = await Promise.all([
        a.request('config.patch', { raw: JSON.stringify({ agent: { maxConcurrentRuns: 5 } }), baseHash: hash }),
        b.request('config.patch', { raw: JSON.stringify({ agent: { maxConcurrentRuns: 6 } }), baseHash: hash }),
      ]);
      const winners = [resA, resB].filter((res) => res.ok);
      const losers = [resA, resB].filter((res) => !res.ok);
      assert.equal(winners.length, 1, JSON.stringify([resA, resB]));
      assert.equal(losers.length, 1);
      assert.equal(losers[0]!.error?.code, 'INVALID_REQUEST');
      assert.equal(losers[0]!.error?.details?.code, 'CONFIG_CHANGED');
      assert.equal(losers[0]!.error?.details?.reason, 'stale-hash');
      assert.match(losers[0]!.error!.message, /baseHash is stale/);
      const text = await readFile(configPath, 'utf8');
      assert.equal(losers[0]!.error?.details?.currentHash, sha256(text));
      assert.equal(winners[0]!.payload.hash, sha256(text));
      const written = JSON.parse(text);
      assert.equal(written.agent.maxConcurrentRuns, resA.ok ? 5 : 6);
      assert.equal(written.provider.apiKey, API_KEY, 'the secret survived the patch');
      assert.equal((await stat(configPath)).mode & 0o777, 0o600);
      // The file is a config start-up accepts.
      assert.equal(loadConfig({ flags: { configPath, stateDir: join(dir, 'state') }, env: {} }).agent.maxConcurrentRuns, written.agent.maxConcurrentRuns);
    });

    it('refuses a bad value naming the field, and leaves the file byte-identical', async () => {
      await writeFresh();
      const before = await readFile(configPath);
      const client = await admin();
      const { hash } = (await client.request('config.get')).payload;
      for (const [raw, field] of [
        [{ gateway: { port: 70_000 } }, 'gateway.port'],
        [{ tools: { exec: { sandbox: 'docker' } } }, 'tools.exec.sandbox'],
        [{ gateway: { unknownKey: true } }, 'gateway.unknownKey'],
        [{ auth: { token: 'a-token-long-enough', password: 'and-a-password' } }, 'auth.token'],
      ] as const) {
        const res = await client.request('config.patch', { raw: JSON.stringify(raw), baseHash: hash });
        assert.equal(res.ok, false, field);
        assert.equal(res.error?.details?.code, 'INVALID_CONFIG', field);
        assert.equal(res.error?.details?.field, field);
        assert.ok(res.error!.message.includes(field), res.error!.message);
        assert.equal(res.error!.message.includes(dir), false, 'the message does not reveal the file location');
      }
      const notJson = await client.request('config.set', { raw: '{"gateway": ', baseHash: hash });
      assert.equal(notJson.error?.details?.code, 'INVALID_CONFIG');
      assert.equal(notJson.error?.details?.field, 'raw');
      assert.deepEqual(await readFile(configPath), before);
    });

    it('applies logLevel and provider.cost live, and answers restart required for the rest', async () => {
      await writeFresh();
      const client = await admin();
      let { hash } = (await client.request('config.get')).payload;
      assert.equal(gateway.pincer.logger.level, 'warn');

      const hot = await client.request('config.patch', {
        raw: JSON.stringify({ logLevel: 'debug', provider: { cost: { 'fake-model': { input: 1, output: 2 } } } }),
        baseHash: hash,
      });
      assert.equal(hot.ok, true, JSON.stringify(hot.error));
      const costPaths = ['provider.cost.fake-model.input', 'provider.cost.fake-model.output'];
      assert.deepEqual(hot.payload.changedPaths, ['logLevel', ...costPaths]);
      assert.deepEqual(hot.payload.reload, { mode: 'hot', hotPaths: ['logLevel', ...costPaths], restartPaths: [] });
      assert.equal(hot.payload.restartRequired, false);
      assert.equal(hot.payload.restart, null);
      assert.equal(gateway.pincer.logger.level, 'debug', 'the running logger changed level');
      const running = (await client.request('config.get')).payload.runtimeConfig;
      assert.equal(running.logLevel, 'debug');
      assert.deepEqual(running.provider.cost, { 'fake-model': { input: 1, output: 2 } });
      hash = hot.payload.hash;

      const cold = await client.request('config.patch', { raw: JSON.stringify({ gateway: { maxConnections: 32 } }), baseHash: hash });
      assert.equal(cold.ok, true);
      assert.equal(cold.payload.restartRequired, true);
      assert.deepEqual(cold.payload.reload, { mode: 'restart', hotPaths: [], restartPaths: ['gateway.maxConnections'] });
      assert.equal(cold.payload.restart.required, true);
      assert.equal(cold.payload.restart.scheduled, false);
      assert.deepEqual(cold.payload.restart.paths, ['gateway.maxConnections']);
      assert.deepEqual(cold.payload.pendingRestartPaths, ['gateway.maxConnections']);
      const after = (await client.request('config.get')).payload;
      assert.equal(after.runtimeConfig.gateway.maxConnections, 64, 'the running gateway keeps its value until a restart');
      assert.equal(after.config.gateway.maxConnections, 32);
      assert.deepEqual(after.pendingRestartPaths, ['gateway.maxConnections']);
      gateway.pincer.logger.setLevel?.('warn');
    });

    it('a redacted config sent back unchanged keeps the real secrets', async () => {
      await writeFresh();
      const client = await admin();
      const got = (await client.request('config.get')).payload;
      const edited = JSON.parse(got.raw);
      edited.agent.maxConcurrentRuns = 7;
      const res = await client.request('config.set', { raw: JSON.stringify(edited), baseHash: got.hash });
      assert.equal(res.ok, true, JSON.stringify(res.error));
      assert.deepEqual(res.payload.changedPaths, ['agent.maxConcurrentRuns']);
      const written = JSON.parse(await readFile(configPath, 'utf8'));
      assert.equal(written.provider.apiKey, API_KEY);
      assert.equal(written.provider.fallbacks[0].apiKey, FALLBACK_KEY);
      assert.equal(written.agent.workspaceDir, join(dir, 'work'));
      assert.equal(JSON.stringify(res.payload).includes(API_KEY), false);
    });

    it('a masked secret in a changed list entry is refused, so a key never moves to another endpoint', async () => {
      await writeFresh();
      const client = await admin();
      const got = (await client.request('config.get')).payload;
      const before = await readFile(configPath);
      const edited = JSON.parse(got.raw);
      edited.provider.fallbacks[0].baseUrl = 'http://127.0.0.1:10/v1';
      const res = await client.request('config.apply', { raw: JSON.stringify(edited), baseHash: got.hash, note: 'move' });
      assert.equal(res.error?.details?.code, 'INVALID_CONFIG');
      assert.equal(res.error?.details?.field, 'provider.fallbacks.0.apiKey');
      assert.deepEqual(await readFile(configPath), before);
    });

    it('config.patch removes a key with null', async () => {
      await writeFresh();
      const client = await admin();
      const { hash } = (await client.request('config.get')).payload;
      const res = await client.request('config.patch', { raw: JSON.stringify({ gateway: null }), baseHash: hash });
      assert.equal(res.ok, true, JSON.stringify(res.error));
      assert.deepEqual(res.payload.changedPaths, ['gateway.maxConnections']);
      assert.equal('gateway' in JSON.parse(await readFile(configPath, 'utf8')), false);
    });
  });

  describe('config.schema and config.schema.lookup', () => {
    it('config.schema: the start-up schema as JSON Schema, secrets marked sensitive', async () => {
      const client = await admin();
      const res = await client.request('config.schema', {});
      assert.equal(res.ok, true);
      const { schema, uiHints, version, generatedAt } = res.payload;
      assert.equal(schema.type, 'object');
      assert.equal(schema.additionalProperties, false);
      assert.deepEqual(schema.properties.gateway.properties.port, {
        type: 'integer',
        description: 'expected an integer from 0 to 65535',
        minimum: 0,
        maximum: 65_535,
      });
      assert.deepEqual(schema.properties.logLevel.enum, ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
      assert.equal(schema.properties.provider.properties.fallbacks.type, 'array');
      assert.equal(schema.properties.provider.properties.fallbacks.maxItems, 10);
      assert.deepEqual(schema.properties.provider.properties.fallbacks.items.required, ['kind', 'model']);
      assert.deepEqual(uiHints['auth.token'], { sensitive: true });
      assert.deepEqual(uiHints['provider.apiKey'], { sensitive: true });
      assert.equal(typeof version, 'string');
      assert.ok(!Number.isNaN(Date.parse(generatedAt)));
    });

    it('config.schema.lookup: a node, its children and whether each applies live', async () => {
      const client = await admin();
      const gatewayNode = (await client.request('config.schema.lookup', { path: 'gateway' })).payload;
      assert.equal(gatewayNode.path, 'gateway');
      assert.equal(gatewayNode.schema.type, 'object');
      assert.equal('properties' in gatewayNode.schema, false, 'shallow');
      assert.equal(gatewayNode.reloadKind, 'restart');
      const port = gatewayNode.children.find((child: { key: string }) => child.key === 'port');
      assert.deepEqual(port, { key: 'port', path: 'gateway.port', type: 'integer', required: false, hasChildren: false, reloadKind: 'restart', hint: { advanced: false }, hintPath: 'gateway.port' });
      assert.equal((await client.request('config.schema.lookup', { path: 'logLevel' })).payload.reloadKind, 'hot');
      const cost = (await client.request('config.schema.lookup', { path: 'provider.cost.gpt-4o' })).payload;
      assert.equal(cost.reloadKind, 'hot');
      assert.deepEqual(cost.children.map((child: { key: string }) => child.key), ['input', 'output', 'cacheRead', 'cacheWrite']);
      const token = (await client.request('config.schema.lookup', { path: 'auth' })).payload.children.find((child: { key: string }) => child.key === 'token');
      assert.equal(token.hint.sensitive, true);
      const missing = await client.request('config.schema.lookup', { path: 'gateway.nope' });
      assert.equal(missing.error?.code, 'INVALID_REQUEST');
      assert.match(missing.error!.message, /config schema path not found: gateway\.nope/);
    });
  });
});
