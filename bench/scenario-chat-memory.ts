/**
 * Memory over many chat turns: waves of one turn per session, the gateway's
 * RSS sampled after each tenth of the turns. The slope over the second half
 * (after warm-up) shows a leak; a flat line is the goal.
 */

import { BenchClient } from './bench-client.js';
import { runChatWave } from './chat-waves.js';
import { MIB, type BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { slope, summarise } from './stats.js';

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
  const startRss = (await ctx.pincer.rssBytes()) / MIB;
  let client = await BenchClient.connected(ctx.pincer.wsUrl, { token: ctx.pincer.token });
  let onSocket = 0;
  try {
    for (let wave = 0; wave < waves; wave++) {
      if (onSocket + keys.length > REQUESTS_PER_SOCKET) {
        await client.close();
        client = await BenchClient.connected(ctx.pincer.wsUrl, { token: ctx.pincer.token });
        onSocket = 0;
      }
      await runChatWave(client, keys);
      onSocket += keys.length;
      if ((wave + 1) % sampleEvery === 0 || wave === waves - 1) {
        turnsAt.push((wave + 1) * keys.length);
        rssAt.push((await ctx.pincer.rssBytes()) / MIB);
      }
    }
  } finally {
    await client.close();
  }
  const half = Math.floor(turnsAt.length / 2);
  const kibPerTurn = slope(turnsAt.slice(half), rssAt.slice(half)) * 1024;
  const endRss = rssAt[rssAt.length - 1];
  ctx.log(`chat memory: ${startRss.toFixed(1)} → ${endRss.toFixed(1)} MiB over ${waves * keys.length} turns, slope ${kibPerTurn.toFixed(2)} KiB/turn`);
  return [
    {
      id: 'rss_after_turns_mib',
      label: `RSS after ${waves * keys.length} chat turns (${chatSessions} sessions)`,
      unit: 'MiB',
      statistic: 'median',
      pincer: summarise([endRss]),
      note: `RSS before the turns: ${startRss.toFixed(1)} MiB`,
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
