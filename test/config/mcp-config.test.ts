/**
 * The `mcp.servers` section: Claude Desktop's entry shape is accepted as
 * pasted, remote URLs must be https unless loopback, and every bad entry is
 * a config error naming the field and the file.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, EXIT_CONFIG } from '../../src/config/config-error.js';
import { buildChildEnv } from '../../src/config/child-env.js';
import { loadConfig } from '../../src/config/load-config.js';

let root: string;
let counter = 0;

async function stateDirWith(config: unknown): Promise<string> {
  const dir = join(root, `state-${counter++}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function load(stateDir: string, env: Record<string, string> = {}) {
  return loadConfig({ env, flags: { stateDir } });
}

async function expectError(config: unknown, includes: string[], env: Record<string, string> = {}): Promise<ConfigError> {
  const stateDir = await stateDirWith(config);
  let caught: unknown;
  try {
    load(stateDir, env);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.exitCode, EXIT_CONFIG);
  for (const part of [...includes, join(stateDir, 'config.json')]) assert.ok(caught.message.includes(part), `"${caught.message}" should include "${part}"`);
  return caught;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pincer-mcp-config-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('mcp.servers', () => {
  it('has no servers by default', async () => {
    const config = load(await stateDirWith({}));
    assert.deepEqual(config.mcp, { servers: {}, maxOutputBytes: 64 * 1024 });
  });

  it('takes a Claude Desktop entry as pasted, with defaults and cwd relative to the file', async () => {
    const stateDir = await stateDirWith({
      mcp: {
        servers: {
          filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], env: { LOG: '1' } },
          git: { type: 'stdio', command: 'uvx', args: ['mcp-server-git'], cwd: 'repos', enabled: false },
        },
      },
    });
    const { servers } = load(stateDir).mcp;
    assert.deepEqual(servers.filesystem, {
      enabled: true,
      toolFilter: { include: [], exclude: [] },
      timeoutMs: 60_000,
      connectionTimeoutMs: 30_000,
      transport: 'stdio',
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
      env: { LOG: '1' },
    });
    assert.equal(servers.git?.enabled, false);
    assert.equal(servers.git?.transport === 'stdio' && servers.git.cwd, join(stateDir, 'repos'));
  });

  it('resolves remote servers: Streamable HTTP with SSE fallback unless a transport is chosen', async () => {
    const { servers } = load(
      await stateDirWith({
        mcp: {
          servers: {
            a: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer ${MCP_TOKEN}' }, toolFilter: { include: ['search_*'] }, requestTimeoutMs: 5000 },
            b: { url: 'http://127.0.0.1:9000/sse', transport: 'sse' },
            c: { url: 'http://localhost:9000/mcp', type: 'http', timeoutMs: 1000, connectionTimeoutMs: 2000 },
          },
        },
      }),
      { MCP_TOKEN: 'tok-123' },
    ).mcp;
    assert.deepEqual(servers.a, {
      enabled: true,
      toolFilter: { include: ['search_*'], exclude: [] },
      timeoutMs: 5000,
      connectionTimeoutMs: 30_000,
      transport: 'streamable-http',
      sseFallback: true,
      url: 'https://mcp.example.com/mcp',
      headers: { Authorization: 'Bearer tok-123' },
    });
    assert.equal(servers.b?.transport, 'sse');
    assert.equal((servers.b as { sseFallback?: boolean }).sseFallback, false);
    assert.equal(servers.c?.transport, 'streamable-http');
    assert.deepEqual([servers.c?.timeoutMs, servers.c?.connectionTimeoutMs], [1000, 2000]);
  });

  const bad: [string, unknown, string[]][] = [
    ['plain http to another host', { x: { url: 'http://mcp.example.com/mcp' } }, ['mcp.servers.x.url', 'https']],
    ['a url that is not one', { x: { url: 'not a url' } }, ['mcp.servers.x.url']],
    ['neither command nor url', { x: { args: ['a'] } }, ['mcp.servers.x', 'command', 'url']],
    ['both command and url', { x: { command: 'a', url: 'https://a.example/mcp' } }, ['mcp.servers.x', 'not both']],
    ['headers on a command', { x: { command: 'a', headers: { A: 'b' } } }, ['mcp.servers.x.headers']],
    ['env on a url', { x: { url: 'https://a.example/mcp', env: { A: 'b' } } }, ['mcp.servers.x.env']],
    ['an unknown key', { x: { command: 'a', autoStart: true } }, ['mcp.servers.x.autoStart']],
    ['a server name providers refuse', { 'my server': { command: 'a' } }, ['mcp.servers', 'server names']],
    ['a non-string env value', { x: { command: 'a', env: { A: 1 } } }, ['mcp.servers.x.env.A']],
    ['a timeout out of range', { x: { command: 'a', timeoutMs: 5 } }, ['mcp.servers.x.timeoutMs']],
    ['transport and type that disagree', { x: { url: 'https://a.example/mcp', transport: 'sse', type: 'http' } }, ['mcp.servers.x.transport']],
    ['an array of servers', [{ command: 'a' }], ['mcp.servers']],
    ['a toolFilter that is not a list', { x: { command: 'a', toolFilter: { include: 'a*' } } }, ['mcp.servers.x.toolFilter.include']],
  ];
  for (const [name, servers, includes] of bad) {
    it(`rejects ${name}`, async () => {
      await expectError({ mcp: { servers } }, includes);
    });
  }

  it('rejects a reference to an unset variable, naming it but not other values', async () => {
    const error = await expectError({ mcp: { servers: { x: { url: 'https://a.example/mcp', headers: { Authorization: 'Bearer ${NOPE}' } } } } }, ['mcp.servers.x.headers.Authorization', 'NOPE']);
    assert.doesNotMatch(error.message, /Bearer/);
  });
});

describe('buildChildEnv', () => {
  it('passes only the allow-list and the locale variables, plus the configured ones', () => {
    const env = buildChildEnv(
      { API_TOKEN: 'mine' },
      {
        PATH: '/usr/bin',
        HOME: '/home/u',
        LANG: 'C.UTF-8',
        LC_ALL: 'C',
        TZ: 'UTC',
        DATABASE_URL: 'postgres://u:p@db/x',
        GH_PAT: 'ghp_x',
        SLACK_WEBHOOK_URL: 'https://hooks.slack.com/x',
        PINCER_TOKEN: 't',
        AWS_SECRET_ACCESS_KEY: 's',
        BASH_FUNC_x: '() { evil; }',
        TERM: '() { evil; }',
      },
    );
    assert.deepEqual(env, { PATH: '/usr/bin', HOME: '/home/u', LANG: 'C.UTF-8', LC_ALL: 'C', TZ: 'UTC', API_TOKEN: 'mine' });
  });
});
