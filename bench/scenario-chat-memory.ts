/**
 * Memory over many chat turns, on a fresh gateway: its idle RSS, then waves
 * of one turn per session, RSS sampled after each tenth of the turns. RSS
 * after the turns is held to 1.5× the idle RSS (issue 22 item 3); the slope
 * over the second half (after warm-up) shows a leak, a flat line is the goal.
 */

import { BenchClient } from './bench-client.js';
import { runChatWave } from './chat-waves.js';
import { MIB, type BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { slope, summarise } from './stats.js';
import { startTarget } from './targets.js';

/** RSS after the turns may be at most this multiple of the same gateway's idle RSS. */
const AFTER_TURNS_MAX_X_IDLE = 1.5;

/** RSS samples over the scenario. */
const SAMPLES = 10;
/** Requests on one socket before the next wave opens a fresh one (flood guard, protocol.md §8.3). */
const REQUESTS_PER_SOCKET = 150;

export async function measureChatMemory(ctx: BenchContext): Promise<Figure[]> {
  const { chatTurns, chatSessions } = ctx.counts;
  const keys = Array.from({ length: chatSessions }, (_, i) => `bench-memory-${i}`);
  const waves = Math.ceil(chatTurns / chatSessions);
  const sampleEvery = Math.max(1, Math.round(waves / SAMPLES));
  const turnsAt: number[] = [];
  const rssAt: number[] = [];
  const target = await startTarget('pincer', { modelUrl: ctx.model.url });
  let idleRss: number;
  let quietRss: number;
  try {
    await new Promise((done) => setTimeout(done, Math.max(0, target.spawnedAt + ctx.counts.idleAfterMs - performance.now())));
    idleRss = (await target.rssBytes()) / MIB;
    let client = await BenchClient.connected(target.wsUrl, { token: target.token });
    let onSocket = 0;
    try {
      for (let wave = 0; wave < waves; wave++) {
        if (onSocket + keys.length > REQUESTS_PER_SOCKET) {
          await client.close();
          client = await BenchClient.connected(target.wsUrl, { token: target.token });
          onSocket = 0;
        }
        await runChatWave(client, keys);
        onSocket += keys.length;
        if ((wave + 1) % sampleEvery === 0 || wave === waves - 1) {
          turnsAt.push((wave + 1) * keys.length);
          rssAt.push((await target.rssBytes()) / MIB);
        }
      }
    } finally {
      await client.close();
    }
    await new Promise((done) => setTimeout(done, ctx.counts.quietAfterMs));
    quietRss = (await target.rssBytes()) / MIB;
  } finally {
    await target.stop();
  }
  const half = Math.floor(turnsAt.length / 2);
  const kibPerTurn = slope(turnsAt.slice(half), rssAt.slice(half)) * 1024;
  const endRss = rssAt[rssAt.length - 1];
  ctx.log(`chat memory: idle ${idleRss.toFixed(1)} → ${endRss.toFixed(1)} MiB over ${waves * keys.length} turns, slope ${kibPerTurn.toFixed(2)} KiB/turn`);
  return [
    {
      id: 'rss_after_turns_x_idle',
      label: `RSS after ${waves * keys.length} chat turns (${chatSessions} sessions) ÷ idle RSS (fresh gateway)`,
      unit: '×',
      statistic: 'median',
      pincer: summarise([endRss / idleRss]),
      budget: { kind: 'abs-max', limit: AFTER_TURNS_MAX_X_IDLE },
      note: `idle ${idleRss.toFixed(1)} MiB, after the turns ${endRss.toFixed(1)} MiB; samples ${rssAt.map((rss) => rss.toFixed(0)).join(', ')} MiB`,
    },
    {
      id: 'rss_after_turns_quiet_x_idle',
      label: `RSS ${ctx.counts.quietAfterMs / 1000} s after the last of those turns ÷ idle RSS`,
      unit: '×',
      statistic: 'median',
      pincer: summarise([quietRss / idleRss]),
      note: `${quietRss.toFixed(1)} MiB once the gateway has been quiet long enough to hand back what the turns grew`,
    },
    {
      id: 'rss_after_turns_mib',
      label: `RSS after ${waves * keys.length} chat turns (${chatSessions} sessions)`,
      unit: 'MiB',
      statistic: 'median',
      pincer: summarise([endRss]),
      note: `idle RSS of the same gateway: ${idleRss.toFixed(1)} MiB`,
    },
    {
      id: 'rss_slope_kib_per_turn',
      label: 'RSS slope over the second half of the turns (leak check)',
      unit: 'KiB/turn',
      statistic: 'median',
      pincer: summarise([kibPerTurn]),
    },
  ];
}
