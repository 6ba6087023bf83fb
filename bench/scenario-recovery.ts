/**
 * Start-up with stored state (issue 13, item 2): spawn → /ready with many
 * long sessions written straight to disk. Cold: no index.json, so every file
 * is parsed. Warm: the index written by the clean stop of the cold run.
 * After a crash: a few sessions changed since the index (each with a run the
 * crash cut), so those are re-read and their runs closed.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionFileName } from '../src/sessions/session-key.js';
import { appendCutRun, writeSessionFile } from '../test/helpers/session-files.js';
import type { BenchCounts } from './bench-config.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import { startTarget } from './targets.js';

/** A cold start parses every file; allow for a slow disk. */
const RECOVERY_START_TIMEOUT_MS = 120_000;

export async function measureRecovery(counts: BenchCounts, modelUrl: string, log: (message: string) => void): Promise<Figure[]> {
  const { recoverySessions: sessions, recoveryMessages: messages, recoveryCutSessions: cut } = counts;
  const stateDir = await mkdtemp(join(tmpdir(), 'pincer-bench-recovery-'));
  const sessionsDir = join(stateDir, 'sessions');
  const keys = Array.from({ length: sessions }, (_, i) => `agent:main:bench-${i}`);
  try {
    const generated = performance.now();
    for (const key of keys) await writeSessionFile(sessionsDir, { key, turns: Math.floor(messages / 2) });
    log(`recovery: wrote ${sessions} sessions x ${messages} messages in ${((performance.now() - generated) / 1000).toFixed(1)} s`);

    const start = async (): Promise<number> => {
      const target = await startTarget('pincer', { modelUrl, stateDir, startTimeoutMs: RECOVERY_START_TIMEOUT_MS });
      await target.stop();
      return target.readyMs;
    };
    const cold = await start();
    const warm = await start();
    for (const key of keys.slice(0, cut)) await appendCutRun(sessionsDir, key);
    const crash = await start();
    const closed = await countClosedRuns(sessionsDir, keys.slice(0, cut));
    if (closed !== cut) throw new Error(`recovery: ${closed} of ${cut} cut runs were closed`);
    log(`recovery: ready cold ${cold.toFixed(0)} ms, warm ${warm.toFixed(0)} ms, after a crash ${crash.toFixed(0)} ms (${closed} cut runs closed)`);

    const shape = `${sessions} sessions x ${messages} messages`;
    return [
      { id: 'recovery_cold_ready_ms', label: `spawn → /ready, ${shape}, no index (every file parsed)`, unit: 'ms', statistic: 'median', pincer: summarise([cold]) },
      { id: 'recovery_warm_ready_ms', label: `spawn → /ready, ${shape}, after a clean stop`, unit: 'ms', statistic: 'median', pincer: summarise([warm]) },
      {
        id: 'recovery_crash_ready_ms',
        label: `spawn → /ready, ${shape}, after a crash cut a run in ${cut} of them`,
        unit: 'ms',
        statistic: 'median',
        pincer: summarise([crash]),
        note: 'every cut run is closed as interrupted before /ready turns 200',
      },
    ];
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Sessions among `keys` whose file now ends with an `interrupted` row. */
async function countClosedRuns(dir: string, keys: readonly string[]): Promise<number> {
  let closed = 0;
  for (const key of keys) {
    const lines = (await readFile(join(dir, sessionFileName(key)), 'utf8')).trimEnd().split('\n');
    if (/"stopReason":"interrupted"/.test(lines.at(-1) ?? '')) closed += 1;
  }
  return closed;
}
