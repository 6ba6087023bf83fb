/**
 * Memory of many idle authenticated connections: RSS growth of each target
 * while it holds them, per connection. Each target first opens and closes a
 * few connections: the first handshakes page in code from the node binary
 * and compile the handshake path, once for the life of the process, and the
 * floor, which loads more modules at start, has paid much of that before it
 * is measured. That one-time cost is reported on its own.
 */

import { closeClients, openClients } from './bench-client.js';
import { OPEN_CONCURRENCY, SETTLE_MS } from './bench-config.js';
import { MIB, type BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import type { Target } from './targets.js';

/** Connections opened and closed before the measured ones. */
const WARM_UP_CONNECTIONS = 50;

export async function measureIdleConnections(ctx: BenchContext): Promise<Figure[]> {
  const count = ctx.counts.idleConnections;
  const pincerWarmUp = await warmUp(ctx.pincer);
  const floorWarmUp = await warmUp(ctx.floor);
  const pincer = await growth(ctx.pincer, count);
  const floor = await growth(ctx.floor, count);
  ctx.log(`idle connections: pincer +${(pincer / MIB).toFixed(1)} MiB, floor +${(floor / MIB).toFixed(1)} MiB (first ${WARM_UP_CONNECTIONS}: +${(pincerWarmUp / MIB).toFixed(1)}, +${(floorWarmUp / MIB).toFixed(1)} MiB)`);
  return [
    {
      id: 'first_connections_growth_mib',
      label: `RSS left by the first ${WARM_UP_CONNECTIONS} connections, opened and closed (one-time)`,
      unit: 'MiB',
      statistic: 'median',
      pincer: summarise([pincerWarmUp / MIB]),
      floor: summarise([floorWarmUp / MIB]),
    },
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

/** RSS after opening and closing the warm-up connections minus RSS before, bytes. */
async function warmUp(target: Target): Promise<number> {
  const before = await target.rssBytes();
  await closeClients(await openClients(target.wsUrl, target.token, WARM_UP_CONNECTIONS, OPEN_CONCURRENCY));
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return (await target.rssBytes()) - before;
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
