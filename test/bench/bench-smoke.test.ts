/**
 * Smoke run of `npm run bench -- --quick`: every scenario runs against a real
 * gateway and the floor, and both result files hold every figure. No budget
 * is asserted here: figures on a shared CI machine are too noisy for that.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const RUNNER = fileURLToPath(new URL(`../../bench/run${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url));
const BENCH_TIMEOUT_MS = 150_000;

/** Every figure issues 9 and 22 ask for. */
const EXPECTED_FIGURES = [
  'ready_ms',
  'idle_rss_mib',
  'handshake_p99_ms',
  'handshake_p50_ms',
  'challenge_hello_p99_ms',
  'rtt_p99_ms',
  'rtt_p50_ms',
  'pipelined_rps',
  'fan_out_dps',
  'first_delta_added_ms',
  'send_to_first_delta_ms',
  'first_connections_growth_mib',
  'idle_connections_growth_mib',
  'idle_connection_kib',
  'concurrent_runs_per_s',
  'rss_after_turns_x_idle',
  'rss_after_turns_mib',
  'rss_after_turns_quiet_x_idle',
  'rss_slope_kib_per_turn',
  'stream_bytes_per_watcher_x_reply',
  'stream_peak_rss_mib',
  'large_reply_rss_growth_x_reply',
  'large_reply_warm_up_growth_mib',
  'large_reply_again_rss_growth_x_reply',
  'feature_ready_ms_none',
  'feature_idle_rss_mib_none',
  'feature_ready_ms_cron',
  'feature_idle_rss_mib_cron',
  'feature_ready_ms_mcp',
  'feature_idle_rss_mib_mcp',
  'feature_ready_ms_telegram',
  'feature_idle_rss_mib_telegram',
  'recovery_cold_ready_ms',
  'recovery_warm_ready_ms',
  'recovery_crash_ready_ms',
];
/** Figures compared with the floor. */
const FLOOR_FIGURES = ['ready_ms', 'idle_rss_mib', 'handshake_p99_ms', 'rtt_p99_ms', 'pipelined_rps', 'fan_out_dps', 'idle_connections_growth_mib', 'feature_idle_rss_mib_cron'];

interface ResultFigure {
  id: string;
  label: string;
  value: number;
  floorValue: number | null;
  ratio: number | null;
  verdict: string;
  pincer: { n: number; median: number; p99: number; min: number; max: number };
}

let child: ChildProcess | undefined;
const dirs: string[] = [];

after(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function runBench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stderr: string }> {
  const execArgs = [...(FROM_SOURCE ? ['--import', import.meta.resolve('tsx')] : []), RUNNER, ...args];
  return new Promise((resolve, reject) => {
    child = spawn(process.execPath, execArgs, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child?.kill('SIGKILL');
      reject(new Error(`bench did not finish within ${BENCH_TIMEOUT_MS} ms\n${stderr}`));
    }, BENCH_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('npm run bench -- --quick', () => {
  it('writes latest.json and latest.md with every figure', { timeout: BENCH_TIMEOUT_MS + 10_000 }, async () => {
    const out = await mkdtemp(join(tmpdir(), 'pincer-bench-smoke-'));
    dirs.push(out);
    // Without --peer the bench never installs or starts a peer gateway.
    const peerCache = join(out, 'peer-cache');
    const { code, stderr } = await runBench(['--quick', '--out', out], { ...process.env, PINCER_PEER_CACHE: peerCache });
    assert.equal(code, 0, stderr);
    await assert.rejects(access(peerCache), { code: 'ENOENT' }, 'no peer was installed');

    const results = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as { quick: boolean; figures: ResultFigure[]; failed: string[] };
    assert.equal(results.quick, true);
    assert.deepEqual(results.figures.map((figure) => figure.id).sort(), [...EXPECTED_FIGURES].sort());
    for (const figure of results.figures) {
      assert.ok(Number.isFinite(figure.value), `${figure.id} has a finite value`);
      assert.ok(figure.pincer.n >= 1 && figure.pincer.min <= figure.pincer.median && figure.pincer.median <= figure.pincer.max, `${figure.id} summary is ordered`);
      assert.ok(['pass', 'fail', 'info'].includes(figure.verdict), `${figure.id} has a verdict`);
    }
    for (const id of FLOOR_FIGURES) {
      const figure = results.figures.find((entry) => entry.id === id);
      assert.ok(figure !== undefined && figure.floorValue !== null && figure.floorValue > 0, `${id} has a floor value`);
      assert.ok(figure.ratio !== null && Number.isFinite(figure.ratio), `${id} has a ratio`);
    }
    assert.deepEqual(results.failed, results.figures.filter((figure) => figure.verdict === 'fail').map((figure) => figure.id));

    const md = await readFile(join(out, 'latest.md'), 'utf8');
    assert.match(md, /\| Figure \| Value \| Floor \| Ratio \| Budget \| Verdict \| Median \| p99 \| Min–max \| n \|/);
    for (const figure of results.figures) assert.ok(md.includes(`| ${figure.label} |`), `latest.md has a row for ${figure.id}`);
  });

  it('refuses an unknown flag with a usage error', async () => {
    const { code, stderr } = await runBench(['--no-such-flag']);
    assert.equal(code, 64);
    assert.match(stderr, /usage: /);
  });
});
