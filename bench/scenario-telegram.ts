/**
 * What the Telegram channel costs: spawn → /ready and idle RSS of Pincer with
 * `channels.telegram` on (polling a fake Bot API on loopback) against the
 * same Pincer with it off, which is this figure's floor.
 */

import type { BenchCounts } from './bench-config.js';
import { MIB } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import { startTarget } from './targets.js';
import { FAKE_BOT_TOKEN, startFakeTelegram } from '../test/helpers/fake-telegram.js';

export async function measureTelegram(counts: BenchCounts, modelUrl: string, log: (message: string) => void): Promise<Figure[]> {
  const telegram = await startFakeTelegram();
  const on = { channels: { telegram: { enabled: true, botToken: FAKE_BOT_TOKEN, apiRoot: telegram.url, dmPolicy: 'allowlist', allowFrom: ['1'] } } };
  const ready = { on: [] as number[], off: [] as number[] };
  const idle = { on: [] as number[], off: [] as number[] };
  try {
    for (let i = 0; i < Math.max(counts.readyRuns, counts.idleRssRuns); i++) {
      for (const mode of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const target = await startTarget('pincer', { modelUrl, config: mode === 'on' ? on : {} });
        try {
          if (i < counts.readyRuns) ready[mode].push(target.readyMs);
          if (i < counts.idleRssRuns) {
            const waitMs = target.spawnedAt + counts.idleAfterMs - performance.now();
            if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
            idle[mode].push((await target.rssBytes()) / MIB);
          }
        } finally {
          await target.stop();
        }
      }
    }
  } finally {
    await telegram.close();
  }
  log(`telegram ready: on ${fmt(ready.on)} ms, off ${fmt(ready.off)} ms; idle RSS: on ${fmt(idle.on)} MiB, off ${fmt(idle.off)} MiB`);
  const note = 'floor = the same Pincer with channels.telegram off';
  return [
    { id: 'telegram_ready_ms', label: 'spawn → /ready 200, Telegram on', unit: 'ms', statistic: 'median', pincer: summarise(ready.on), floor: summarise(ready.off), budget: { kind: 'ratio-max', limit: 1.25 }, note },
    { id: 'telegram_idle_rss_mib', label: `idle RSS ${counts.idleAfterMs / 1000} s after start, Telegram on`, unit: 'MiB', statistic: 'median', pincer: summarise(idle.on), floor: summarise(idle.off), budget: { kind: 'ratio-max', limit: 1.2 }, note },
  ];
}

function fmt(values: number[]): string {
  return values.map((value) => value.toFixed(1)).join(' ');
}
