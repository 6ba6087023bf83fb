/**
 * Request/response on one authenticated connection: sequential round trips
 * (latency) and pipelined requests with a fixed number in flight
 * (throughput). Pincer answers `health`, the floor echoes. The bench lifts
 * Pincer's per-connection flood guard (protocol.md §8.3) in its config, since
 * these rates are its whole point; each pipelined round still uses a fresh connection.
 */

import { BenchClient } from './bench-client.js';
import type { BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import type { Target } from './targets.js';

/** The cheapest read method both targets answer (the floor answers any method). */
const ROUND_TRIP_METHOD = 'health';
/** Unrecorded round trips before measuring (JIT, caches). */
const WARM_UP_REQUESTS = 200;

export async function measureRoundTrip(ctx: BenchContext): Promise<Figure[]> {
  const { counts } = ctx;
  const rtt = await sequential([ctx.pincer, ctx.floor], counts.roundTrips);
  const rate = { pincer: [] as number[], floor: [] as number[] };
  for (let round = 0; round < counts.pipelinedRounds; round++) {
    rate.pincer.push(await pipelined(ctx.pincer, counts.pipelinedRequests, counts.inFlight));
    rate.floor.push(await pipelined(ctx.floor, counts.pipelinedRequests, counts.inFlight));
  }
  return [
    {
      id: 'rtt_p99_ms',
      label: `req/res round trip p99 (${counts.roundTrips} on one connection)`,
      unit: 'ms',
      statistic: 'p99',
      pincer: summarise(rtt.pincer),
      floor: summarise(rtt.floor),
    },
    {
      id: 'rtt_p50_ms',
      label: 'req/res round trip p50',
      unit: 'ms',
      statistic: 'median',
      pincer: summarise(rtt.pincer),
      floor: summarise(rtt.floor),
    },
    {
      id: 'pipelined_rps',
      label: `pipelined req/s (${counts.inFlight} in flight, ${counts.pipelinedRequests} per round)`,
      unit: 'req/s',
      statistic: 'median',
      pincer: summarise(rate.pincer),
      floor: summarise(rate.floor),
    },
  ];
}

/** Round trips on one connection per target, alternating between the targets so both see the same machine load, ms. */
async function sequential(targets: Target[], count: number): Promise<Record<Target['kind'], number[]>> {
  const clients = await Promise.all(targets.map((target) => BenchClient.connected(target.wsUrl, { token: target.token })));
  try {
    for (let i = 0; i < Math.min(WARM_UP_REQUESTS, count); i++) for (const client of clients) await client.request(ROUND_TRIP_METHOD);
    const samples: Record<Target['kind'], number[]> = { pincer: [], floor: [] };
    for (let i = 0; i < count; i++) {
      for (let t = 0; t < targets.length; t++) {
        const started = performance.now();
        await clients[t].request(ROUND_TRIP_METHOD);
        samples[targets[t].kind].push(performance.now() - started);
      }
    }
    return samples;
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** Requests per second with `inFlight` outstanding until `count` have been answered. */
async function pipelined(target: Target, count: number, inFlight: number): Promise<number> {
  const client = await BenchClient.connected(target.wsUrl, { token: target.token });
  try {
    let sent = 0;
    const started = performance.now();
    const lane = async (): Promise<void> => {
      while (sent < count) {
        sent++;
        await client.request(ROUND_TRIP_METHOD);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
    return count / ((performance.now() - started) / 1000);
  } finally {
    await client.close();
  }
}
