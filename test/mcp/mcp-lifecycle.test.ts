/**
 * The MCP manager with real servers: child processes over stdio (the SDK
 * test server, one that crashes, one that never starts, one that hangs, one
 * that ignores SIGTERM) and HTTP servers on 127.0.0.1 (Streamable HTTP and
 * the older SSE transport).
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McpServerConfig, McpStdioServerConfig } from '../../src/config/mcp-config.js';
import { REDACTED_SENTINEL } from '../../src/security/redact-config.js';
import { startMcpManager } from '../../src/mcp/mcp-manager.js';
import type { McpManager } from '../../src/mcp/mcp-manager.js';
import { createLogger } from '../../src/util/logger.js';
import { startMcpHttpServer } from '../helpers/mcp-test-server.js';

const SERVER_SCRIPT = fileURLToPath(new URL('../helpers/mcp-stdio-server.js', import.meta.url));
const WAIT_MS = 15_000;

const managers: McpManager[] = [];
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

after(async () => {
  for (const manager of managers) await manager.close();
  for (const cleanup of cleanups) await cleanup();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function stdio(mode: string, overrides: Partial<McpStdioServerConfig> = {}, extraArgs: string[] = []): McpStdioServerConfig {
  return {
    transport: 'stdio',
    command: process.execPath,
    args: [SERVER_SCRIPT, mode, ...extraArgs],
    env: {},
    enabled: true,
    toolFilter: { include: [], exclude: [] },
    timeoutMs: 10_000,
    connectionTimeoutMs: 10_000,
    ...overrides,
  };
}

function start(servers: Record<string, McpServerConfig>, logLines?: string[], maxOutputBytes = 64 * 1024): McpManager {
  const manager = startMcpManager({
    config: { servers, maxOutputBytes },
    logger: createLogger({ level: 'debug', write: (line) => logLines?.push(line) }),
    clientVersion: '0.0.0-test',
    defaultCwd: tmpdir(),
  });
  managers.push(manager);
  return manager;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pincer-mcp-'));
  dirs.push(dir);
  return dir;
}

async function waitUntil(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startsIn(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

const signal = new AbortController().signal;

function text(outcome: { content: { type: string; text?: string }[] }): string {
  return outcome.content.map((block) => block.text ?? `[${block.type}]`).join('\n');
}

describe('MCP server start-up', () => {
  it('returns at once, offers no tools while starting, then the filtered tools once ready', async () => {
    const before = performance.now();
    const manager = start({ t: stdio('normal', { toolFilter: { include: ['e*', 'a*', 'pid'], exclude: ['admin_*'] } }) });
    const startMs = performance.now() - before;
    assert.ok(startMs < 200, `startMcpManager took ${startMs.toFixed(0)} ms`);
    assert.equal(manager.servers()[0]?.state, 'starting');
    assert.deepEqual(manager.tools(), []);
    await manager.whenSettled();
    const view = manager.servers()[0];
    assert.equal(view?.state, 'ready');
    assert.deepEqual(manager.tools().map((tool) => tool.name), ['t__echo', 't__add', 't__env', 't__pid', 't__add_tool']);
    assert.equal(view?.filteredOut, 11);
    assert.ok(typeof view?.pid === 'number' && isAlive(view.pid));
    console.log(`# figure: stdio test server ready in ${(performance.now() - before).toFixed(0)} ms`);
  });

  it('keeps retrying a server that exits on start, with growing pauses, and says why', async () => {
    const dir = await tempDir();
    const starts = join(dir, 'starts');
    const manager = start({ broken: stdio('exit-on-start', {}, ['--starts-file', starts]) });
    await waitUntil('a failed start', () => manager.servers()[0]?.lastError !== undefined);
    const view = manager.servers()[0];
    assert.equal(view?.state, 'restarting');
    assert.match(view?.lastError ?? '', /exited with code 3: boom: cannot open the widget database/);
    assert.ok((view?.nextAttemptAt ?? 0) > Date.now() - 100);
    const outcome = await manager.callTool('broken__echo', { text: 'x' }, signal);
    assert.equal(outcome.isError, true);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // Pauses of 0.5, 1 and 2 s: at most 3 starts in 2.5 s after the first failure (plus the first start).
    const count = (await startsIn(starts)).length;
    assert.ok(count >= 2 && count <= 4, `${count} starts`);
    await manager.close();
    const afterClose = (await startsIn(starts)).length;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.equal((await startsIn(starts)).length, afterClose, 'no start after close');
    assert.equal(manager.servers()[0]?.state, 'stopped');
  });

  it('gives up on a server that never answers initialize and kills it', async () => {
    const dir = await tempDir();
    const starts = join(dir, 'starts');
    const manager = start({ stuck: stdio('hang', { connectionTimeoutMs: 1_000 }, ['--starts-file', starts]) });
    await waitUntil('the process to start', async () => (await startsIn(starts)).length > 0);
    const [pid] = await startsIn(starts);
    await waitUntil('the start to time out', () => manager.servers()[0]?.state === 'restarting');
    assert.match(manager.servers()[0]?.lastError ?? '', /did not answer initialize in time/);
    await waitUntil('the hung process to be gone', () => !isAlive(pid));
    await manager.close();
  });
});

describe('MCP tool calls', () => {
  it('turns a crash mid-call into an error result, hides the tools, and restarts the server', async () => {
    const manager = start({ t: stdio('normal') });
    await manager.whenSettled();
    const firstPid = Number(text(await manager.callTool('t__pid', {}, signal)));
    const crashed = await manager.callTool('t__crash', {}, signal);
    assert.equal(crashed.isError, true);
    assert.match(text(crashed), /MCP server t is unavailable \(the server process exited with code 1/);
    assert.equal(manager.servers()[0]?.state, 'restarting');
    assert.deepEqual(manager.tools(), [], 'tools of a crashed server are not offered');
    const meanwhile = await manager.callTool('t__echo', { text: 'x' }, signal);
    assert.match(text(meanwhile), /unavailable .* restarts in \d+ s, try again later/);

    await waitUntil('the restart', () => manager.servers()[0]?.state === 'ready');
    assert.equal(manager.servers()[0]?.restarts, 1);
    assert.equal(text(await manager.callTool('t__echo', { text: 'back' }, signal)), 'echo: back');
    const secondPid = Number(text(await manager.callTool('t__pid', {}, signal)));
    assert.notEqual(secondPid, firstPid);
    assert.ok(!isAlive(firstPid));
  });

  it('answers calls in order and refreshes the tools on tools/list_changed', async () => {
    const manager = start({ t: stdio('normal') });
    await manager.whenSettled();
    const rounds = 20;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) assert.equal(text(await manager.callTool('t__echo', { text: String(i) }, signal)), `echo: ${i}`);
    console.log(`# figure: stdio MCP tool call round trip ${((performance.now() - started) / rounds).toFixed(2)} ms (mean of ${rounds})`);
    assert.ok(!manager.tools().some((tool) => tool.name === 't__late'));
    assert.equal(text(await manager.callTool('t__add_tool', {}, signal)), 'added');
    await waitUntil('the new tool', () => manager.tools().some((tool) => tool.name === 't__late'));
    assert.equal(text(await manager.callTool('t__late', {}, signal)), 'late tool ran');
  });

  it('ends a call that takes too long, and one whose run was stopped, with error results', async () => {
    const manager = start({ t: stdio('normal', { timeoutMs: 300 }) });
    await manager.whenSettled();
    const slow = await manager.callTool('t__slow', { ms: 5_000 }, signal);
    assert.equal(slow.isError, true);
    assert.equal(text(slow), 'tool t__slow timed out: MCP server t gave no answer within 300 ms');

    const controller = new AbortController();
    const started = performance.now();
    const pending = manager.callTool('t__slow', { ms: 5_000 }, controller.signal);
    setTimeout(() => controller.abort(), 50);
    const aborted = await pending;
    assert.ok(performance.now() - started < 1_000);
    assert.match(text(aborted), /aborted/);
    // The server is still usable.
    assert.equal(text(await manager.callTool('t__echo', { text: 'still here' }, signal)), 'echo: still here');
  });

  it('passes only allow-listed variables plus its own env, and keeps env secrets out of the logs', async () => {
    const lines: string[] = [];
    process.env.DATABASE_URL = 'postgres://user:hunter2@db.internal/app';
    process.env.GH_PAT = 'ghp_not_for_servers';
    try {
      const manager = start({ t: stdio('normal', { env: { WIDGET_KEY: 'wk-secret-value-1234', ECHO_ON_STDERR: 'WIDGET_KEY' } }) }, lines);
      await manager.whenSettled();
      const seen = JSON.parse(text(await manager.callTool('t__env', { name: 'WIDGET_KEY' }, signal))) as { names: string[]; value: string };
      assert.equal(seen.value, 'wk-secret-value-1234');
      assert.ok(!seen.names.includes('DATABASE_URL') && !seen.names.includes('GH_PAT'), seen.names.join(' '));
      const allowed = new Set(['PATH', 'HOME', 'LANG', 'TERM', 'TZ', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'WIDGET_KEY', 'ECHO_ON_STDERR']);
      assert.deepEqual(seen.names.filter((name) => !allowed.has(name) && !name.startsWith('LC_')), []);
      console.log(`# figure: variables visible to a local MCP server: ${seen.names.length} (${seen.names.join(', ')})`);
      await waitUntil('the leaked stderr line', () => lines.some((line) => line.includes('leaked: ')));
      const all = lines.join('');
      assert.ok(!all.includes('wk-secret-value-1234'), 'the secret never reaches the log');
      assert.ok(all.includes(`leaked: ${REDACTED_SENTINEL}`));
    } finally {
      delete process.env.DATABASE_URL;
      delete process.env.GH_PAT;
    }
  });
});

describe('MCP shutdown', () => {
  it('stops a server that ignores SIGTERM, and what it started, on close', async () => {
    const manager = start({ t: stdio('stubborn') });
    await manager.whenSettled();
    const serverPid = Number(text(await manager.callTool('t__pid', {}, signal)));
    const childPid = Number(text(await manager.callTool('t__spawn_child', {}, signal)));
    assert.ok(isAlive(serverPid) && isAlive(childPid));
    const started = performance.now();
    await manager.close();
    const closeMs = performance.now() - started;
    await waitUntil('the server and its child to be gone', () => !isAlive(serverPid) && !isAlive(childPid), 3_000);
    console.log(`# figure: close of a server ignoring SIGTERM took ${closeMs.toFixed(0)} ms`);
  });
});

describe('remote MCP servers', () => {
  it('connects over Streamable HTTP with the configured headers', async () => {
    const http = await startMcpHttpServer({ bearer: 'remote-secret-token' });
    cleanups.push(() => http.close());
    const manager = start({
      r: { transport: 'streamable-http', sseFallback: true, url: http.url, headers: { Authorization: 'Bearer remote-secret-token' }, enabled: true, toolFilter: { include: [], exclude: [] }, timeoutMs: 5_000, connectionTimeoutMs: 5_000 },
    });
    await manager.whenSettled();
    assert.equal(manager.servers()[0]?.state, 'ready');
    assert.equal(manager.servers()[0]?.transport, 'streamable-http');
    const rounds = 20;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) assert.equal(text(await manager.callTool('r__add', { a: i, b: 1 }, signal)), String(i + 1));
    console.log(`# figure: remote MCP tool call round trip ${((performance.now() - started) / rounds).toFixed(2)} ms (mean of ${rounds})`);
    assert.equal(http.unauthorized, 0);
    assert.equal(http.sessions.streamable, 1);
  });

  it('falls back to SSE when the server has no Streamable HTTP endpoint', async () => {
    const http = await startMcpHttpServer({ transports: ['sse'] });
    cleanups.push(() => http.close());
    const manager = start({
      old: { transport: 'streamable-http', sseFallback: true, url: http.sseUrl, headers: {}, enabled: true, toolFilter: { include: [], exclude: [] }, timeoutMs: 5_000, connectionTimeoutMs: 5_000 },
    });
    await manager.whenSettled();
    assert.equal(manager.servers()[0]?.state, 'ready', manager.servers()[0]?.lastError);
    assert.equal(manager.servers()[0]?.transport, 'sse');
    assert.equal(text(await manager.callTool('old__echo', { text: 'via sse' }, signal)), 'echo: via sse');
    assert.equal(http.sessions.sse, 1);
  });

  it('reports a refused credential without showing it', async () => {
    const http = await startMcpHttpServer({ bearer: 'the-right-token' });
    cleanups.push(() => http.close());
    const lines: string[] = [];
    const manager = start(
      {
        r: { transport: 'streamable-http', sseFallback: false, url: http.url, headers: { Authorization: 'Bearer the-wrong-token' }, enabled: true, toolFilter: { include: [], exclude: [] }, timeoutMs: 5_000, connectionTimeoutMs: 5_000 },
      },
      lines,
    );
    await manager.whenSettled();
    const view = manager.servers()[0];
    assert.equal(view?.state, 'restarting');
    assert.match(view?.lastError ?? '', /401/);
    assert.ok(!JSON.stringify(view).includes('the-wrong-token'));
    assert.ok(!lines.join('').includes('the-wrong-token'));
  });
});
