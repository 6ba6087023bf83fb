/** Memory of many idle authenticated connections: RSS growth of each target while it holds them. */

import { closeClients, openClients } from './bench-client.js';
import { OPEN_CONCURRENCY, SETTLE_MS } from './bench-config.js';
import { MIB, type BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import type { Target } from './targets.js';

export async function measureIdleConnections(ctx: BenchContext): Promise<Figure[]> {
  const count = ctx.counts.idleConnections;
  const pincer = await growth(ctx.pincer, count);
  const floor = await growth(ctx.floor, count);
  ctx.log(`idle connections: pincer +${(pincer / MIB).toFixed(1)} MiB, floor +${(floor / MIB).toFixed(1)} MiB`);
  return [
    {
      id: 'idle_connections_growth_mib',
      label: `${count} idle authenticated connections: RSS growth`,
      unit: 'MiB',
      statistic: 'median',
      pincer: summarise([pincer / MIB]),
      floor: summarise([floor / MIB]),
    },
    {
      id: 'idle_connection_kib',
      label: 'memory per idle authenticated connection',
      unit: 'KiB',
      statistic: 'median',
      pincer: summarise([pincer / count / 1024]),
      floor: summarise([floor / count / 1024]),
      // Issue 22 item 2.
      budget: { kind: 'ratio-max', limit: 1.5 },
    },
  ];
}

/** RSS after opening `count` connections minus RSS before, bytes. */
async function growth(target: Target, count: number): Promise<number> {
  const before = await target.rssBytes();
  const clients = await openClients(target.wsUrl, target.token, count, OPEN_CONCURRENCY);
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return (await target.rssBytes()) - before;
  } finally {
    await closeClients(clients);
  }
}
