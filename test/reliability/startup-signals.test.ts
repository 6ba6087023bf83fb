/**
 * Issue 13, item 10: SIGTERM or SIGINT at any moment from spawn to ready is a
 * clean stop: the documented drain and exit 0, never death by the signal.
 * Signals land at stratified random points in the first second after the
 * process starts running JavaScript (its "gateway starting" line; before
 * that Node itself is still booting and no program can catch a signal). The
 * state dir holds sessions with runs cut by a crash, so start-up has real
 * work (opening the store, repairing runs) that a signal can interrupt; every
 * stop must leave it intact for the next start.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSessionFile } from '../helpers/session-files.js';
import { hermeticEnv, httpGet, makeTempHome, spawnCli, type CliProcess } from '../helpers/spawn-cli.js';
import { freePort } from './gateway-process.js';
import { SEED, seededRandom, soakCount } from './soak-settings.js';

const TRIES = soakCount('STARTUP_SIGNAL_TRIES', 8, 40);
/** Signals land within this long after the process started running JavaScript, ms. */
const WINDOW_MS = 1_000;
const SESSIONS = 40;
const TURNS_PER_SESSION = 50;
const STARTING_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 20_000;

type Moment = 'before listening' | 'listening, not ready' | 'ready';

describe('signals during start-up', { timeout: 60_000 + TRIES * 15_000 }, () => {
  let home: string;
  let stateDir: string;
  const children = new Set<CliProcess>();

  before(async () => {
    home = await makeTempHome();
    stateDir = await mkdtemp(join(tmpdir(), 'pincer-startup-signals-'));
    const sessionsDir = join(stateDir, 'sessions');
    for (let i = 0; i < SESSIONS; i++) {
      await writeSessionFile(sessionsDir, { key: `agent:main:s${i}`, turns: TURNS_PER_SESSION, cutRun: true });
    }
  });

  after(async () => {
    for (const child of children) child.kill();
    await rm(home, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it(`drains and exits 0 on SIGTERM or SIGINT at ${TRIES} random moments of the first second`, async () => {
    const random = seededRandom(SEED);
    const moments: Record<Moment, number> = { 'before listening': 0, 'listening, not ready': 0, ready: 0 };
    const delays: number[] = [];
    for (let attempt = 0; attempt < TRIES; attempt++) {
      const signal = random() < 0.5 ? 'SIGTERM' : 'SIGINT';
      // Stratified: one signal in each slice of the window, so the early moments are always covered.
      const delayMs = Math.floor(((attempt + random()) * WINDOW_MS) / TRIES);
      const port = await freePort();
      const cli = spawnCli(
        ['gateway', '--port', String(port), '--token', 'startup-signal-token', '--state-dir', stateDir, '--log-level', 'debug'],
        hermeticEnv(home),
      );
      children.add(cli);
      await cli.waitForOutput(/"msg":"gateway starting"/, STARTING_TIMEOUT_MS);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const moment = await momentOf(cli, port);
      cli.child.kill(signal);
      const result = await cli.waitForExit(EXIT_TIMEOUT_MS);
      children.delete(cli);
      assert.equal(result.signal, null, `attempt ${attempt}: killed by ${result.signal} (${signal} ${delayMs} ms after starting, ${moment})\n${result.stderr}`);
      assert.equal(result.code, 0, `attempt ${attempt}: exit ${result.code} (${signal} ${delayMs} ms after starting, ${moment})\n${result.stderr}`);
      assert.match(result.stderr, /"msg":"shutdown requested"/, `attempt ${attempt}: the signal was handled`);
      moments[moment] += 1;
      delays.push(delayMs);
    }
    console.log(`startup signals: ${TRIES} signals at ${delays.join(', ')} ms after "gateway starting": ${JSON.stringify(moments)}, every one exited 0`);
    assert.ok(moments['before listening'] + moments['listening, not ready'] > 0, 'some signals landed before ready');

    // Nothing was lost by the cut start-ups: every session still holds all its turns.
    const files = (await readdir(join(stateDir, 'sessions'))).filter((name) => name.endsWith('.jsonl'));
    assert.equal(files.length, SESSIONS);
    for (const file of files) {
      const lines = (await readFile(join(stateDir, 'sessions', file), 'utf8')).trim().split('\n');
      assert.ok(lines.length >= 1 + TURNS_PER_SESSION * 2 + 1, `${file} kept its ${TURNS_PER_SESSION} turns`);
    }
  });
});

/** Where the start-up was when the signal went out. */
async function momentOf(cli: CliProcess, port: number): Promise<Moment> {
  if (!/"msg":"gateway listening"/.test(cli.stderr())) {
    const status = await httpGet(`http://127.0.0.1:${port}/ready`, 500).then((res) => res.status, () => undefined);
    return status === undefined ? 'before listening' : status === 200 ? 'ready' : 'listening, not ready';
  }
  return 'ready';
}
