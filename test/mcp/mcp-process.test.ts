/**
 * MCP servers around the real `pincer` process: /ready is not held up by a
 * server that hangs, no server process outlives the gateway (drained with
 * SIGTERM or killed with SIGKILL), and `pincer mcp list` / `pincer doctor`
 * show each server, its state and its tools.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileConfig } from '../../src/config/schema.js';
import { startFakeModelServer } from '../helpers/fake-model-server.js';
import type { FakeModelServer } from '../helpers/fake-model-server.js';
import { hermeticEnv, makeTempHome, spawnCli } from '../helpers/spawn-cli.js';
import { startGatewayChild } from '../reliability/gateway-process.js';
import type { GatewayChild } from '../reliability/gateway-process.js';

const SERVER_SCRIPT = fileURLToPath(new URL('../helpers/mcp-stdio-server.js', import.meta.url));
const WAIT_MS = 15_000;

let fake: FakeModelServer;
let home: string;
const children: GatewayChild[] = [];

before(async () => {
  fake = await startFakeModelServer();
  home = await makeTempHome();
});

after(async () => {
  for (const child of children) child.cli.kill();
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function pidsIn(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

async function startWithServers(servers: NonNullable<FileConfig['mcp']>['servers']): Promise<{ gateway: GatewayChild; stateDir: string }> {
  const stateDir = await mkdtemp(join(home, 'state-'));
  const gateway = await startGatewayChild({ home, stateDir, modelUrl: fake.url, config: { mcp: { servers } } });
  children.push(gateway);
  return { gateway, stateDir };
}

const stdio = (mode: string, startsFile: string, extra: Record<string, unknown> = {}) => ({
  command: process.execPath,
  args: [SERVER_SCRIPT, mode, '--starts-file', startsFile],
  ...extra,
});

describe('MCP servers and the gateway process', () => {
  it('answers /ready at once while a server hangs in its start', async () => {
    const dir = await mkdtemp(join(home, 'hang-'));
    const starts = join(dir, 'starts');
    const { gateway } = await startWithServers({ stuck: stdio('hang', starts, { connectionTimeoutMs: 30_000 }) });
    const readyMs = gateway.listenMs + gateway.readyAfterListenMs;
    console.log(`# figure: spawn to /ready with a hanging MCP server: ${readyMs} ms`);
    assert.ok(readyMs < 10_000, `${readyMs} ms`);
    await waitUntil('the hanging server to start', async () => (await pidsIn(starts)).length > 0);
    const [pid] = await pidsIn(starts);
    gateway.cli.child.kill('SIGTERM');
    const exit = await gateway.cli.waitForExit(WAIT_MS);
    assert.equal(exit.code, 0, exit.stderr);
    await waitUntil('the hanging server to be gone', () => !isAlive(pid as number), 5_000);
  });

  it('stops servers and what they started when drained, and servers when killed', async () => {
    const dir = await mkdtemp(join(home, 'kill-'));
    const startsA = join(dir, 'a');
    const startsB = join(dir, 'b');
    const { gateway } = await startWithServers({ a: stdio('stubborn', startsA), b: stdio('normal', startsB) });
    await waitUntil('both servers to start', async () => (await pidsIn(startsA)).length > 0 && (await pidsIn(startsB)).length > 0);
    const [a] = await pidsIn(startsA);
    const [b] = await pidsIn(startsB);
    // SIGKILL leaves the gateway no time for anything: the parent-death signal must end the servers.
    gateway.cli.child.kill('SIGKILL');
    await gateway.cli.waitForExit(WAIT_MS);
    await waitUntil('the servers to be gone after SIGKILL', () => !isAlive(a as number) && !isAlive(b as number), 5_000);
  });
});

describe('pincer mcp list', () => {
  let configPath: string;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pincer-mcp-list-'));
    configPath = join(dir, 'config.json');
    await writeFile(
      configPath,
      JSON.stringify({
        mcp: {
          servers: {
            tools: { command: process.execPath, args: [SERVER_SCRIPT, 'normal'], toolFilter: { include: ['echo', 'add'] }, env: { SECRET_THING: 'do-not-print-me' } },
            broken: { command: process.execPath, args: [SERVER_SCRIPT, 'exit-on-start'] },
            off: { url: 'https://mcp.example.com/mcp', enabled: false },
          },
        },
      }),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prints each server with its state and tools, and exits 1 when one does not start', async () => {
    const result = await spawnCli(['mcp', 'list', '--config', configPath, '--state-dir', join(dir, 'state')], hermeticEnv(home)).waitForExit(WAIT_MS);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `MCP servers in ${configPath}:`);
    assert.match(lines[1] ?? '', /^tools\s+stdio\s+ready\s+2 tools, 14 hidden by toolFilter$/);
    assert.match(lines[2] ?? '', /^ {2}tools__echo {2}Echo the text back\.$/);
    assert.match(lines[3] ?? '', /^ {2}tools__add {2}Add two numbers\.$/);
    assert.match(lines[4] ?? '', /^broken\s+stdio\s+failed\s+the server process exited with code 3: boom: cannot open the widget database$/);
    assert.match(lines[5] ?? '', /^off\s+streamable-http\s+disabled$/);
    assert.ok(!result.stdout.includes('do-not-print-me'));
  });

  it('prints JSON with --json', async () => {
    const result = await spawnCli(['mcp', 'list', '--json', '--config', configPath, '--state-dir', join(dir, 'state')], hermeticEnv(home)).waitForExit(WAIT_MS);
    const report = JSON.parse(result.stdout) as { ok: boolean; servers: { name: string; state: string; tools: { name: string }[] }[] };
    assert.equal(report.ok, false);
    assert.deepEqual(report.servers.map((server) => [server.name, server.state, server.tools.length]), [['tools', 'ready', 2], ['broken', 'failed', 0], ['off', 'disabled', 0]]);
  });

  it('shows the servers in pincer doctor, with a warning for the one that does not start', async () => {
    const result = await spawnCli(['doctor', '--json', '--config', configPath, '--state-dir', join(dir, 'state')], hermeticEnv(home)).waitForExit(WAIT_MS);
    const report = JSON.parse(result.stdout) as { mcpServers: { name: string; state: string; tools: { name: string }[] }[]; findings: { id: string; severity: string; message: string }[] };
    assert.deepEqual(report.mcpServers.map((server) => [server.name, server.state]), [['tools', 'ready'], ['broken', 'failed'], ['off', 'disabled']]);
    assert.deepEqual(report.mcpServers[0]?.tools.map((tool) => tool.name), ['tools__echo', 'tools__add']);
    const finding = report.findings.find((f) => f.id === 'mcp.server-unavailable');
    assert.equal(finding?.severity, 'warn');
    assert.match(finding?.message ?? '', /MCP server broken did not start: the server process exited with code 3/);
    const text = await spawnCli(['doctor', '--config', configPath, '--state-dir', join(dir, 'state')], hermeticEnv(home)).waitForExit(WAIT_MS);
    assert.match(text.stdout, /^mcp server tools: ready, tools: tools__echo, tools__add$/m);
    assert.match(text.stdout, /^mcp server broken: failed$/m);
  });
});
