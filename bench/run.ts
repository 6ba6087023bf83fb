/**
 * `npm run bench`: start the Pincer gateway and the floor server as child
 * processes, run every scenario of issue 9 against both, and write
 * bench/results/latest.json and latest.md (under the working directory,
 * or --out DIR). --quick runs reduced counts (a smoke run); --check exits 1
 * when a figure misses its budget. --peer openclaw also measures OpenClaw
 * (installed into a cache outside the repository on first use) against
 * Pincer in the same run.
 */

import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeModelServer, type RecordedRequest } from '../test/helpers/fake-model-server.js';
import { FULL_COUNTS, QUICK_COUNTS, type BenchCounts } from './bench-config.js';
import type { BenchContext } from './context.js';
import { evaluateFigure, type Figure } from './figures.js';
import { ensurePeerInstalled, isKnownPeer, KNOWN_PEERS, type PeerInstall } from './peer-install.js';
import { startOpenClaw } from './peer-openclaw.js';
import { writeResults } from './report.js';
import { measureChatMemory } from './scenario-chat-memory.js';
import { measureConcurrentRuns } from './scenario-concurrent-runs.js';
import { measureFanOut } from './scenario-fan-out.js';
import { measureFeatureCost } from './scenario-feature-cost.js';
import { measureFirstDelta } from './scenario-first-delta.js';
import { measureHandshake } from './scenario-handshake.js';
import { measureIdleConnections } from './scenario-idle-connections.js';
import { measurePeer } from './scenario-peer.js';
import { measureRecovery } from './scenario-recovery.js';
import { measureRoundTrip } from './scenario-round-trip.js';
import { measureStartup } from './scenario-startup.js';
import { measureStreamCost } from './scenario-stream-cost.js';
import { startTarget, stopAllTargets } from './targets.js';

const EXIT_BUDGET_MISSED = 1;
const EXIT_FAILED = 2;
const EXIT_USAGE = 64;
const USAGE = `usage: node dist/bench/run.js [--quick] [--check] [--out DIR] [--only NAME,…] [--peer ${KNOWN_PEERS.join('|')}]`;
/** Names of the scenarios for --only that start their own targets. */
const STARTUP = 'start-up';
const RECOVERY = 'recovery';
const FEATURE_COST = 'feature-cost';
/** The comparison with --peer's gateway; a scenario name for --only once --peer is given. */
const PEER = 'peer';

type Scenario = (ctx: BenchContext) => Promise<Figure[]>;

/** Scenarios on the shared targets, in order: memory of idle sockets first, while both targets are fresh. */
const SCENARIOS: [string, Scenario][] = [
  ['idle-connections', measureIdleConnections],
  ['handshake', measureHandshake],
  ['round-trip', measureRoundTrip],
  ['fan-out', measureFanOut],
  ['first-delta', measureFirstDelta],
  ['concurrent-runs', measureConcurrentRuns],
  ['chat-memory', measureChatMemory],
  // Last: its 10 MB reply runs on a fresh gateway, and its streams must not weigh on the memory figures above.
  ['stream-cost', measureStreamCost],
];

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { quick: { type: 'boolean' }, check: { type: 'boolean' }, out: { type: 'string' }, only: { type: 'string' }, peer: { type: 'string' } },
    }).values;
  } catch (error) {
    process.stderr.write(`pincer bench: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (args.peer !== undefined && !isKnownPeer(args.peer)) {
    process.stderr.write(`pincer bench: unknown peer "${args.peer}" for --peer (known: ${KNOWN_PEERS.join(', ')})\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const known = [STARTUP, RECOVERY, FEATURE_COST, ...SCENARIOS.map(([name]) => name), ...(args.peer === undefined ? [] : [PEER])];
  const only = args.only === undefined ? known : args.only.split(',').map((name) => name.trim());
  const unknown = only.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const hint = unknown.includes(PEER) ? ' (the peer scenario needs --peer NAME)' : '';
    process.stderr.write(`pincer bench: unknown scenario ${unknown.join(', ')}${hint} (known: ${known.join(', ')})\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const quick = args.quick === true;
  const counts = quick ? QUICK_COUNTS : FULL_COUNTS;
  const outDir = resolve(args.out ?? 'bench/results');
  const log = (message: string): void => void process.stderr.write(`bench: ${message}\n`);
  // Install before anything is measured, so a download never weighs on a figure.
  const peer = only.includes(PEER) ? await ensurePeerInstalled(log) : undefined;
  const startedAt = new Date();
  const started = performance.now();

  const figures = await measureAll(counts, only, peer, log);
  const evaluated = figures.map(evaluateFigure);
  const failed = evaluated.filter((figure) => figure.verdict === 'fail').map((figure) => figure.id);
  const paths = await writeResults(outDir, {
    startedAt: startedAt.toISOString(),
    durationS: (performance.now() - started) / 1000,
    quick,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    figures: evaluated,
    failed,
    peer: peer === undefined ? undefined : { name: 'openclaw', version: peer.openclawVersion, node: peer.nodeVersion },
  });
  log(`wrote ${paths.md} and ${paths.json}`);
  for (const figure of evaluated) {
    const against = figure.against ?? 'floor';
    log(`${figure.verdict.padEnd(4)} ${figure.id} = ${figure.value.toFixed(2)} ${figure.unit}${figure.ratio === null ? '' : ` (${figure.ratio.toFixed(2)}× ${against})`}`);
  }
  if (args.check === true && failed.length > 0) {
    log(`budgets missed: ${failed.join(', ')}`);
    return EXIT_BUDGET_MISSED;
  }
  return 0;
}

/** Run the chosen scenarios: start-up, feature cost, recovery and the peer on their own targets, the rest on one shared pair. */
async function measureAll(counts: BenchCounts, only: readonly string[], peer: PeerInstall | undefined, log: (message: string) => void): Promise<Figure[]> {
  let chunkListener: ((request: RecordedRequest, index: number, at: number) => void) | undefined;
  const model = await startFakeModelServer({ zeroDelay: true, onContentChunk: (request, index) => chunkListener?.(request, index, performance.now()) });
  const setChunkListener = (listener: typeof chunkListener): void => {
    chunkListener = listener;
  };
  const figures: Figure[] = [];
  try {
    if (only.includes(STARTUP)) {
      log(STARTUP);
      figures.push(...(await measureStartup(counts, model.url, log)));
    }
    if (only.includes(FEATURE_COST)) {
      log(FEATURE_COST);
      figures.push(...(await measureFeatureCost(counts, model.url, log)));
    }
    if (only.includes(RECOVERY)) {
      log(RECOVERY);
      figures.push(...(await measureRecovery(counts, model.url, log)));
    }
    if (peer !== undefined) {
      log(`${PEER}: Pincer against OpenClaw ${peer.openclawVersion}`);
      figures.push(
        ...(await measurePeer(
          counts,
          { label: 'Pincer', start: () => startTarget('pincer', { modelUrl: model.url }) },
          { label: `OpenClaw ${peer.openclawVersion}`, start: () => startOpenClaw(peer, model.url) },
          setChunkListener,
          log,
        )),
      );
    }
    const shared = SCENARIOS.filter(([name]) => only.includes(name));
    if (shared.length === 0) return figures;
    const floor = await startTarget('floor');
    const pincer = await startTarget('pincer', { modelUrl: model.url });
    // Let both settle as in the idle figure before measuring memory growth.
    await new Promise((done) => setTimeout(done, Math.max(0, pincer.spawnedAt + counts.idleAfterMs - performance.now())));
    const ctx: BenchContext = {
      counts,
      pincer,
      floor,
      model,
      setChunkListener,
      log,
    };
    for (const [name, scenario] of shared) {
      log(name);
      figures.push(...(await scenario(ctx)));
    }
    return figures;
  } finally {
    await stopAllTargets();
    await model.close();
  }
}

// A peer runs in its own process group, out of reach of the terminal's Ctrl-C: stop every target before leaving.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopAllTargets().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`pincer bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await stopAllTargets();
  process.exitCode = EXIT_FAILED;
}
