/**
 * Secrets (issue item 6) against the real gateway: `pincer token --rotate`
 * makes the old token fail on the very next connect, and the token, the
 * provider key and wrongly presented secrets never appear in logs, error
 * frames, close reasons or config.get.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { hermeticEnv, makeTempHome, runCli } from '../helpers/spawn-cli.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { waitTerminal } from '../channels/openclaw/e2e-setup.js';
import { REDACTED_SENTINEL, redactConfig } from '../../src/security/redact-config.js';
import { capturingLogger, httpRequest } from './security-helpers.js';

const WAIT_MS = 5_000;
const TOKEN = `gw-token-${randomUUID()}`;
const API_KEY = `sk-provider-${randomUUID()}`;
const PRESENTED = `presented-wrong-${randomUUID()}`;

const clients: ProtocolClient[] = [];
after(() => Promise.all(clients.map((client) => client.close())));

async function open(url: string, headers?: Record<string, string>): Promise<ProtocolClient> {
  const client = await ProtocolClient.open(url, { headers });
  clients.push(client);
  return client;
}

describe('token rotation', () => {
  let home: string;
  let stateDir: string;
  let gateway: StartedGateway;

  before(async () => {
    home = await makeTempHome();
    stateDir = join(home, 'state');
    gateway = await startGateway({ token: null, stateDir });
  });
  after(async () => {
    await gateway.close();
    await rm(home, { recursive: true, force: true });
  });

  it('makes the old token fail on the very next connect after `pincer token --rotate`', async () => {
    const old = gateway.token;
    assert.equal((await (await open(gateway.wsUrl)).connect({ token: old })).ok, true);

    const rotated = await runCli(['token', '--rotate', '--state-dir', stateDir], hermeticEnv(home));
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = rotated.stdout.trim();
    assert.notEqual(fresh, old);

    const refused = await open(gateway.wsUrl);
    const res = await refused.connect({ token: old });
    assert.equal(res.error?.details?.code, 'AUTH_TOKEN_MISMATCH');
    assert.equal((await refused.waitClosed(WAIT_MS)).code, 1008);
    const bearer = await httpRequest(gateway.port, '/v1/models', { headers: { authorization: `Bearer ${old}` } });
    assert.equal(bearer.status, 401);

    assert.equal((await (await open(gateway.wsUrl)).connect({ token: fresh })).ok, true);
    assert.equal((await httpRequest(gateway.port, '/v1/models', { headers: { authorization: `Bearer ${fresh}` } })).status, 200);
  });
});

describe('secrets stay secret', () => {
  let fake: FakeModelServer;
  let gateway: StartedGateway;
  let stateDir: string;
  const { logger, lines } = capturingLogger('trace');

  before(async () => {
    fake = await startFakeModelServer({ apiKey: API_KEY });
    stateDir = await mkdtemp(join(tmpdir(), 'pincer-secrets-'));
    gateway = await startGateway({
      token: TOKEN,
      stateDir,
      logger,
      overrides: { provider: { kind: 'openai', baseUrl: fake.url, apiKey: API_KEY, model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 } },
    });
  });
  after(async () => {
    await gateway.close();
    await fake.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('keeps the token, the provider key and presented secrets out of logs, frames, close reasons and config.get', async () => {
    const seen: string[] = [];
    // Wrong secrets in every place a client can put one.
    const attempts: { connect: Parameters<ProtocolClient['connect']>[0]; headers?: Record<string, string> }[] = [
      { connect: { token: PRESENTED } },
      { connect: { password: PRESENTED } },
      { connect: { extra: { auth: { token: PRESENTED, deviceToken: TOKEN } } } },
      { connect: {}, headers: { authorization: `Bearer ${PRESENTED}` } },
      { connect: { token: `${TOKEN}x` } },
    ];
    for (const attempt of attempts) {
      const client = await open(gateway.wsUrl, attempt.headers);
      const res = await client.connect(attempt.connect);
      assert.equal(res.ok, false);
      const closed = await client.waitClosed(WAIT_MS);
      seen.push(JSON.stringify(client.frames), closed.reason);
    }
    // A request before connect that carries secrets in its params.
    const early = await open(gateway.wsUrl);
    await early.request('config.get', { token: PRESENTED, apiKey: TOKEN });
    seen.push(JSON.stringify(early.frames), (await early.waitClosed(WAIT_MS)).reason);

    // Authorised use: config.get, a chat that uses the provider key, and /v1.
    const admin = await open(gateway.wsUrl);
    assert.equal((await admin.connect({ token: TOKEN })).ok, true);
    const config = await admin.request('config.get', {});
    assert.equal(config.ok, true);
    const configText = JSON.stringify(config.payload);
    assert.match(configText, /__OPENCLAW_REDACTED__/);
    assert.ok(!configText.includes(stateDir), 'no filesystem paths in config.get');
    const sent = await admin.request('chat.send', { sessionKey: 'main', message: 'hello', idempotencyKey: randomUUID() });
    assert.equal((await waitTerminal(admin, sent.payload.runId, WAIT_MS)).payload.state, 'final');
    assert.equal(fake.requests.length, 1, 'the provider key was used');
    const unknown = await admin.request('no.such.method', { token: PRESENTED });
    assert.equal(unknown.ok, false);
    seen.push(JSON.stringify(admin.frames));
    for (const bearer of [PRESENTED, TOKEN]) {
      const res = await httpRequest(gateway.port, '/v1/models', { headers: { authorization: `Bearer ${bearer}` } });
      seen.push(res.body, JSON.stringify(res.headers));
    }

    assert.ok(lines.length > 5, 'the trace logger was in use');
    const everything = [...seen, ...lines].join('\n');
    for (const [name, secret] of [['gateway token', TOKEN], ['provider key', API_KEY], ['presented secret', PRESENTED]] as const) {
      assert.ok(!everything.includes(secret), `${name} leaked`);
    }
  });
});

describe('config.get with credentials inside URLs', () => {
  const URL_USER = 'proxy-user-7f3a';
  const URL_PASSWORD = 'url-password-9c1e';
  const QUERY_KEY = 'query-key-42d8';
  let gateway: StartedGateway;

  before(async () => {
    gateway = await startGateway({
      token: TOKEN,
      overrides: {
        provider: {
          kind: 'openai',
          baseUrl: `http://${URL_USER}:${URL_PASSWORD}@127.0.0.1:9/v1?api_key=${QUERY_KEY}&region=eu`,
          model: 'fake-model',
        },
      },
    });
  });
  after(() => gateway.close());

  it('replaces the user, password and secret query parameters of every URL, keeping the rest readable', async () => {
    const admin = await open(gateway.wsUrl);
    assert.equal((await admin.connect({ token: TOKEN })).ok, true);
    const config = await admin.request('config.get', {});
    assert.equal(config.ok, true);
    const text = JSON.stringify(config.payload);
    for (const secret of [URL_USER, URL_PASSWORD, QUERY_KEY, TOKEN]) assert.ok(!text.includes(secret), `${secret} shown by config.get`);
    const baseUrl = new URL(config.payload.runtimeConfig.provider.baseUrl as string);
    assert.equal(baseUrl.host, '127.0.0.1:9');
    assert.equal(baseUrl.password, '__OPENCLAW_REDACTED__');
    assert.equal(baseUrl.searchParams.get('region'), 'eu');
  });
});

describe('redactConfig', () => {
  it('replaces every secret-like field, wherever it sits, and leaves counts and routing keys alone', () => {
    const shown = redactConfig({
      channels: { telegram: { botToken: 'b', webhookUrl: 'https://hooks.example/T/x', webhookSecret: 'w' } },
      db: { dsn: 'postgres://u:p@h/db', connectionString: 'Server=x;Password=y', privateKey: 'pk', accessKeyId: 'ak' },
      mcp: [{ url: 'https://x.example/mcp?token=t1', headers: { authorization: 'Bearer z', cookie: 'c' } }],
      agent: { contextTokens: 64_000, sessionKey: 'agent:main:main' },
    }) as any;
    assert.equal(shown.channels.telegram.botToken, REDACTED_SENTINEL);
    assert.equal(shown.channels.telegram.webhookUrl, REDACTED_SENTINEL);
    assert.equal(shown.channels.telegram.webhookSecret, REDACTED_SENTINEL);
    for (const key of ['dsn', 'connectionString', 'privateKey', 'accessKeyId']) assert.equal(shown.db[key], REDACTED_SENTINEL, key);
    assert.equal(shown.mcp[0].url, `https://x.example/mcp?token=${REDACTED_SENTINEL}`);
    assert.equal(shown.mcp[0].headers.authorization, REDACTED_SENTINEL);
    assert.equal(shown.mcp[0].headers.cookie, REDACTED_SENTINEL);
    assert.deepEqual(shown.agent, { contextTokens: 64_000, sessionKey: 'agent:main:main' });
  });
});
