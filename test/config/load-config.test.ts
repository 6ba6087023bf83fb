import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, EXIT_CONFIG } from '../../src/config/config-error.js';
import type { LoadConfigOptions } from '../../src/config/load-config.js';
import { loadConfig } from '../../src/config/load-config.js';

let root: string;
let counter = 0;

/** A fresh state dir holding `config` as config.json (raw text when a string). */
async function stateDirWith(config?: unknown): Promise<string> {
  const dir = join(root, `state-${counter++}`);
  await mkdir(dir, { recursive: true });
  if (config !== undefined) {
    await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  }
  return dir;
}

function load(stateDir: string, options: LoadConfigOptions = {}) {
  return loadConfig({ env: {}, ...options, flags: { stateDir, ...options.flags } });
}

function expectConfigError(fn: () => unknown, includes: string[]): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.exitCode, EXIT_CONFIG);
  for (const part of includes) assert.ok(caught.message.includes(part), `"${caught.message}" should include "${part}"`);
  assert.ok(!caught.message.includes('\n'), 'message is one line');
  return caught;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pincer-config-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('loadConfig defaults', () => {
  it('applies safe defaults when there is no config file', async () => {
    const stateDir = await stateDirWith();
    const config = load(stateDir);
    assert.equal(config.gateway.host, '127.0.0.1');
    assert.equal(config.gateway.port, 18789);
    assert.equal(config.gateway.websocket, true);
    assert.equal(config.gateway.drainTimeoutMs, 10_000);
    assert.equal(config.gateway.handshakeTimeoutMs, 10_000);
    assert.equal(config.gateway.maxPayloadBytes, 4 * 1024 * 1024);
    assert.equal(config.gateway.tickIntervalMs, 30_000);
    assert.deepEqual(config.gateway.allowedOrigins, []);
    assert.deepEqual(config.auth, {});
    assert.equal(config.provider, undefined);
    assert.equal(config.agent.maxConcurrentRuns, 8);
    assert.equal(config.openaiHttp.enabled, true);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.stateDir, stateDir);
    assert.equal(config.configPath, join(stateDir, 'config.json'));
  });

  it('defaults the state dir to ~/.pincer and reads PINCER_STATE_DIR', async () => {
    const home = await stateDirWith();
    assert.equal(loadConfig({ env: {}, homeDir: home }).stateDir, join(home, '.pincer'));
    const fromEnv = await stateDirWith();
    assert.equal(loadConfig({ env: { PINCER_STATE_DIR: fromEnv }, homeDir: home }).stateDir, fromEnv);
    assert.equal(loadConfig({ env: { PINCER_STATE_DIR: '~/elsewhere' }, homeDir: home }).stateDir, join(home, 'elsewhere'));
  });

  it('returns a deeply frozen object', async () => {
    const config = load(await stateDirWith({ gateway: { allowedOrigins: ['https://example.com'] } }));
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.gateway));
    assert.ok(Object.isFrozen(config.gateway.allowedOrigins));
    assert.throws(() => {
      (config.gateway as { port: number }).port = 1;
    }, TypeError);
  });
});

describe('loadConfig precedence', () => {
  it('lets env win over the file and flags win over env', async () => {
    const stateDir = await stateDirWith({ gateway: { port: 1111, host: 'localhost' }, logLevel: 'debug' });
    assert.equal(load(stateDir).gateway.port, 1111);
    assert.equal(load(stateDir, { env: { PINCER_PORT: '2222' } }).gateway.port, 2222);
    const both = load(stateDir, { env: { PINCER_PORT: '2222' }, flags: { port: 3333 } });
    assert.equal(both.gateway.port, 3333);
    assert.equal(both.gateway.host, 'localhost', 'unrelated file values survive');
    assert.equal(both.logLevel, 'debug');
  });

  it('keeps the file value when a flag is not given', async () => {
    const stateDir = await stateDirWith({ gateway: { websocket: false } });
    assert.equal(load(stateDir).gateway.websocket, false);
    assert.equal(load(stateDir, { flags: { websocket: undefined } }).gateway.websocket, false);
  });

  it('reads a file given with --config', async () => {
    const other = await stateDirWith({ gateway: { port: 4444 } });
    const stateDir = await stateDirWith();
    const config = load(stateDir, { flags: { configPath: join(other, 'config.json') } });
    assert.equal(config.gateway.port, 4444);
    assert.equal(config.configPath, join(other, 'config.json'));
  });

  it('takes programmatic overrides above env and below flags', async () => {
    const stateDir = await stateDirWith();
    const config = load(stateDir, {
      env: { PINCER_PORT: '2222' },
      overrides: { gateway: { port: 5555, tickIntervalMs: 50 } },
    });
    assert.equal(config.gateway.port, 5555);
    assert.equal(config.gateway.tickIntervalMs, 50);
    assert.equal(load(stateDir, { overrides: { gateway: { port: 5555 } }, flags: { port: 6666 } }).gateway.port, 6666);
  });
});

describe('loadConfig errors name the field and the file', () => {
  const cases: { name: string; config: unknown; field: string }[] = [
    { name: 'a non-numeric port', config: { gateway: { port: 'abc' } }, field: 'gateway.port' },
    { name: 'a port out of range', config: { gateway: { port: 70000 } }, field: 'gateway.port' },
    { name: 'a fractional port', config: { gateway: { port: 80.5 } }, field: 'gateway.port' },
    { name: 'a host with spaces', config: { gateway: { host: 'a b' } }, field: 'gateway.host' },
    { name: 'a non-boolean websocket', config: { gateway: { websocket: 'yes' } }, field: 'gateway.websocket' },
    { name: 'a bad origin', config: { gateway: { allowedOrigins: ['example.com/path'] } }, field: 'gateway.allowedOrigins.0' },
    { name: 'a negative drain budget', config: { gateway: { drainTimeoutMs: -1 } }, field: 'gateway.drainTimeoutMs' },
    { name: 'an empty token', config: { auth: { token: '' } }, field: 'auth.token' },
    { name: 'a blank password', config: { auth: { password: '   ' } }, field: 'auth.password' },
    { name: 'an unknown provider', config: { provider: { kind: 'llama', model: 'x' } }, field: 'provider.kind' },
    { name: 'a bad base URL', config: { provider: { kind: 'openai', model: 'x', baseUrl: 'ftp://x' } }, field: 'provider.baseUrl' },
    { name: 'zero concurrent runs', config: { agent: { maxConcurrentRuns: 0 } }, field: 'agent.maxConcurrentRuns' },
    { name: 'an unknown log level', config: { logLevel: 'loud' }, field: 'logLevel' },
    { name: 'an unknown key', config: { gateway: { prot: 1 } }, field: 'gateway.prot' },
    { name: 'an unknown section', config: { gatway: {} }, field: 'gatway' },
    { name: 'a section that is an array', config: { gateway: [] }, field: 'gateway' },
  ];
  for (const { name, config, field } of cases) {
    it(`rejects ${name}`, async () => {
      const stateDir = await stateDirWith(config);
      const error = expectConfigError(() => load(stateDir), [field, join(stateDir, 'config.json')]);
      assert.equal(error.field, field);
    });
  }

  it('never echoes a secret value', async () => {
    const stateDir = await stateDirWith({ auth: { token: 42 } });
    const error = expectConfigError(() => load(stateDir), ['auth.token']);
    assert.ok(!error.message.includes('42'));
  });

  it('rejects malformed JSON naming the file', async () => {
    const stateDir = await stateDirWith('{ "gateway": { oops');
    expectConfigError(() => load(stateDir), [join(stateDir, 'config.json'), 'not valid JSON']);
  });

  it('rejects a file that is not an object', async () => {
    const stateDir = await stateDirWith('[1, 2]');
    expectConfigError(() => load(stateDir), [join(stateDir, 'config.json'), 'JSON object']);
  });

  it('rejects a missing --config file but not a missing default file', async () => {
    const stateDir = await stateDirWith();
    const missing = join(stateDir, 'nope.json');
    expectConfigError(() => load(stateDir, { flags: { configPath: missing } }), [missing, 'not found']);
    assert.doesNotThrow(() => load(stateDir));
  });

  it('rejects an unreadable config path', async () => {
    const stateDir = await stateDirWith();
    await mkdir(join(stateDir, 'config.json'));
    expectConfigError(() => load(stateDir), [join(stateDir, 'config.json'), 'directory']);
  });

  it('rejects a token and a password set together', async () => {
    const stateDir = await stateDirWith({ auth: { token: 'abc' } });
    expectConfigError(() => load(stateDir, { env: { PINCER_PASSWORD: 'pw' } }), ['auth.token', 'auth.password', 'PINCER_PASSWORD']);
  });
});

describe('loadConfig environment', () => {
  const cases: { env: Record<string, string>; name: string; field: string }[] = [
    { env: { PINCER_PORT: 'abc' }, name: 'PINCER_PORT', field: 'gateway.port' },
    { env: { PINCER_PORT: '65536' }, name: 'PINCER_PORT', field: 'gateway.port' },
    { env: { PINCER_HOST: '' }, name: 'PINCER_HOST', field: 'gateway.host' },
    { env: { PINCER_TOKEN: '' }, name: 'PINCER_TOKEN', field: 'auth.token' },
    { env: { PINCER_PASSWORD: ' ' }, name: 'PINCER_PASSWORD', field: 'auth.password' },
    { env: { PINCER_PROVIDER: 'llama' }, name: 'PINCER_PROVIDER', field: 'provider.kind' },
    { env: { PINCER_BASE_URL: 'not a url' }, name: 'PINCER_BASE_URL', field: 'provider.baseUrl' },
    { env: { PINCER_LOG_LEVEL: 'loud' }, name: 'PINCER_LOG_LEVEL', field: 'logLevel' },
    { env: { PINCER_STATE_DIR: '' }, name: 'PINCER_STATE_DIR', field: 'stateDir' },
  ];
  for (const { env, name, field } of cases) {
    it(`rejects a bad ${name} naming the variable`, async () => {
      const stateDir = await stateDirWith();
      const error = expectConfigError(() => loadConfig({ env, homeDir: stateDir }), [name]);
      assert.equal(error.field, field);
    });
  }

  it('never echoes a secret from the environment', async () => {
    const stateDir = await stateDirWith({ auth: { password: 'x' } });
    const error = expectConfigError(() => load(stateDir, { env: { PINCER_TOKEN: 'supersecret' } }), ['auth.token']);
    assert.ok(!error.message.includes('supersecret'));
  });

  it('reads the provider from PINCER_* with key fallbacks', async () => {
    const stateDir = await stateDirWith();
    const config = load(stateDir, {
      env: { PINCER_PROVIDER: 'openai', PINCER_MODEL: 'gpt-test', OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' },
    });
    assert.deepEqual(config.provider, {
      kind: 'openai',
      model: 'gpt-test',
      apiKey: 'sk-x',
      baseUrl: 'http://127.0.0.1:9/v1',
      timeoutMs: 120_000,
      maxRetries: 2,
      fallbacks: [],
      cost: {},
    });
    const anthropic = load(stateDir, {
      env: { PINCER_PROVIDER: 'anthropic', PINCER_MODEL: 'claude-test', ANTHROPIC_API_KEY: 'ak', PINCER_API_KEY: 'pk' },
    });
    assert.equal(anthropic.provider?.apiKey, 'pk', 'PINCER_API_KEY wins over the fallback');
    assert.equal(load(stateDir, { env: { OPENAI_API_KEY: 'sk-x' } }).provider, undefined, 'a fallback alone configures nothing');
  });

  it('requires a model once a provider kind is set', async () => {
    const stateDir = await stateDirWith();
    expectConfigError(() => load(stateDir, { env: { PINCER_PROVIDER: 'openai' } }), ['provider.model', 'PINCER_PROVIDER']);
  });

  it('requires a provider kind when other provider fields are set', async () => {
    const stateDir = await stateDirWith({ provider: { model: 'm' } });
    expectConfigError(() => load(stateDir), ['provider.kind', join(stateDir, 'config.json')]);
  });
});

describe('provider.fallbacks', () => {
  it('resolves each fallback: the primary endpoint and key carry over only to a fallback on the same endpoint', async () => {
    const stateDir = await stateDirWith({
      provider: {
        kind: 'openai',
        model: 'gpt-a',
        baseUrl: 'http://127.0.0.1:9/v1',
        apiKey: 'sk-primary',
        fallbacks: [
          { kind: 'openai', model: 'gpt-b' },
          { kind: 'anthropic', model: 'claude-c' },
          { kind: 'openai', model: 'gpt-d', baseUrl: 'http://127.0.0.2:9/v1' },
          { kind: 'anthropic', model: 'claude-e', apiKey: 'ak-own' },
        ],
      },
    });
    const config = load(stateDir, { env: { ANTHROPIC_API_KEY: 'ak-env' } });
    assert.deepEqual(config.provider?.fallbacks, [
      { kind: 'openai', model: 'gpt-b', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-primary' },
      { kind: 'anthropic', model: 'claude-c', apiKey: 'ak-env' },
      { kind: 'openai', model: 'gpt-d', baseUrl: 'http://127.0.0.2:9/v1' },
      { kind: 'anthropic', model: 'claude-e', apiKey: 'ak-own' },
    ]);
  });

  it('rejects a fallback without a model, with an unknown kind or an unknown key, naming the entry', async () => {
    const noModel = await stateDirWith({ provider: { kind: 'openai', model: 'm', fallbacks: [{ kind: 'anthropic' }] } });
    expectConfigError(() => load(noModel), ['provider.fallbacks.0.model']);
    const badKind = await stateDirWith({ provider: { kind: 'openai', model: 'm', fallbacks: [{ kind: 'gemini', model: 'g' }] } });
    expectConfigError(() => load(badKind), ['provider.fallbacks.0.kind', 'openai, anthropic']);
    const unknown = await stateDirWith({ provider: { kind: 'openai', model: 'm', fallbacks: [{ kind: 'openai', model: 'n', temperature: 1 }] } });
    expectConfigError(() => load(unknown), ['unknown key provider.fallbacks.0.temperature']);
  });
});

describe('loadConfig flags', () => {
  it('rejects an empty --token naming the flag', async () => {
    const stateDir = await stateDirWith();
    const error = expectConfigError(() => load(stateDir, { flags: { token: '' } }), ['--token']);
    assert.equal(error.field, 'auth.token');
  });

  it('rejects an out-of-range --port', async () => {
    const stateDir = await stateDirWith();
    expectConfigError(() => load(stateDir, { flags: { port: 99999 } }), ['--port', '0 to 65535']);
  });

  it('resolves a relative workspaceDir against the config file', async () => {
    // Relative to the config file in the state directory, and outside that directory (issue 14).
    const stateDir = await stateDirWith({ agent: { workspaceDir: '../work' } });
    assert.equal(load(stateDir).agent.workspaceDir, join(stateDir, '..', 'work'));
  });

  it('refuses a workspace that is, contains or lies inside the state directory, but for its own workspace folder', async () => {
    for (const workspaceDir of ['.', './', '..', 'sessions', 'work']) {
      const stateDir = await stateDirWith({ agent: { workspaceDir } });
      assert.throws(
        () => load(stateDir),
        (error: unknown) => error instanceof ConfigError && error.field === 'agent.workspaceDir' && error.exitCode === 78,
        workspaceDir,
      );
    }
    const stateDir = await stateDirWith({ agent: { workspaceDir: 'workspace/projects' } });
    assert.equal(load(stateDir).agent.workspaceDir, join(stateDir, 'workspace', 'projects'));
  });
});
