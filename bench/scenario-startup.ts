/** Spawn → first /ready 200 (median of N) and idle RSS a few seconds after start, for both targets. */

import type { BenchCounts } from './bench-config.js';
import { MIB } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import { startTarget, type TargetKind } from './targets.js';

export async function measureStartup(counts: BenchCounts, modelUrl: string, log: (message: string) => void): Promise<Figure[]> {
  const ready: Record<TargetKind, number[]> = { pincer: [], floor: [] };
  for (let i = 0; i < counts.readyRuns; i++) {
    // Alternate the order so drift on a shared machine hits both alike.
    const order: TargetKind[] = i % 2 === 0 ? ['floor', 'pincer'] : ['pincer', 'floor'];
    for (const kind of order) {
      const target = await startTarget(kind, { modelUrl });
      ready[kind].push(target.readyMs);
      await target.stop();
    }
  }
  log(`ready: pincer ${fmt(ready.pincer)} ms, floor ${fmt(ready.floor)} ms`);

  const idle: Record<TargetKind, number[]> = { pincer: [], floor: [] };
  for (let i = 0; i < counts.idleRssRuns; i++) {
    const floor = await startTarget('floor');
    const pincer = await startTarget('pincer', { modelUrl });
    try {
      for (const target of [floor, pincer]) {
        const waitMs = target.spawnedAt + counts.idleAfterMs - performance.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        idle[target.kind].push((await target.rssBytes()) / MIB);
      }
    } finally {
      await Promise.all([floor.stop(), pincer.stop()]);
    }
  }
  log(`idle RSS: pincer ${fmt(idle.pincer)} MiB, floor ${fmt(idle.floor)} MiB`);

  return [
    {
      id: 'ready_ms',
      label: 'spawn → /ready 200',
      unit: 'ms',
      statistic: 'median',
      pincer: summarise(ready.pincer),
      floor: summarise(ready.floor),
      budget: { kind: 'ratio-max', limit: 1.5 },
    },
    {
      id: 'idle_rss_mib',
      label: `idle RSS ${counts.idleAfterMs / 1000} s after start`,
      unit: 'MiB',
      statistic: 'median',
      pincer: summarise(idle.pincer),
      floor: summarise(idle.floor),
      budget: { kind: 'ratio-max', limit: 1.25 },
    },
  ];
}

function fmt(values: number[]): string {
  return values.map((value) => value.toFixed(1)).join(' ');
}
