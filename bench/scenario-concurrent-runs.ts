/** Run throughput: chat.send to many sessions at once with a zero-delay fake model, until every final. */

import { BenchClient } from './bench-client.js';
import { runChatWave } from './chat-waves.js';
import type { BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';

export async function measureConcurrentRuns(ctx: BenchContext): Promise<Figure[]> {
  const { concurrentSessions, concurrentRounds } = ctx.counts;
  const rates: number[] = [];
  for (let round = 0; round < concurrentRounds; round++) {
    // A fresh socket per round keeps each one far from the flood guard (protocol.md §8.3).
    const client = await BenchClient.connected(ctx.pincer.wsUrl, { token: ctx.pincer.token });
    try {
      const keys = Array.from({ length: concurrentSessions }, (_, i) => `bench-runs-${round}-${i}`);
      const ms = await runChatWave(client, keys);
      rates.push(concurrentSessions / (ms / 1000));
    } finally {
      await client.close();
    }
  }
  return [
    {
      id: 'concurrent_runs_per_s',
      label: `${concurrentSessions} concurrent sessions chat.send → final`,
      unit: 'runs/s',
      statistic: 'median',
      pincer: summarise(rates),
    },
  ];
}
