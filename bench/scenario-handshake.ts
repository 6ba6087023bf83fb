/**
 * Handshake latency, one socket at a time so the figure is latency, not
 * queueing: open → hello-ok for clients that send connect at once, and
 * challenge → hello-ok for clients that wait for the challenge (Pincer
 * delays it on purpose, protocol.md Appendix A.1, and so does the floor).
 */

import { BenchClient } from './bench-client.js';
import type { BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import type { Target } from './targets.js';

export async function measureHandshake(ctx: BenchContext): Promise<Figure[]> {
  const targets = [ctx.pincer, ctx.floor];
  // Interleaved, one sample of each target in turn, so load from elsewhere on the machine hits both alike.
  const open = { pincer: [] as number[], floor: [] as number[] };
  for (let i = 0; i < ctx.counts.handshakes; i++) {
    for (const target of targets) open[target.kind].push(await openToHello(target));
  }
  const waiting = { pincer: [] as number[], floor: [] as number[] };
  for (let i = 0; i < ctx.counts.waitingHandshakes; i++) {
    for (const target of targets) waiting[target.kind].push(await challengeToHello(target));
  }
  return [
    {
      id: 'handshake_p99_ms',
      label: `open → hello-ok p99 (${ctx.counts.handshakes} connections)`,
      unit: 'ms',
      statistic: 'p99',
      pincer: summarise(open.pincer),
      floor: summarise(open.floor),
      budget: { kind: 'ratio-max', limit: 1.5 },
    },
    {
      id: 'handshake_p50_ms',
      label: 'open → hello-ok p50',
      unit: 'ms',
      statistic: 'median',
      pincer: summarise(open.pincer),
      floor: summarise(open.floor),
    },
    {
      id: 'challenge_hello_p99_ms',
      label: `challenge → hello-ok p99, waiting clients (${ctx.counts.waitingHandshakes})`,
      unit: 'ms',
      statistic: 'p99',
      pincer: summarise(waiting.pincer),
      floor: summarise(waiting.floor),
    },
  ];
}

/** open → hello-ok of one client that sends connect at once, ms. */
async function openToHello(target: Target): Promise<number> {
  const started = performance.now();
  const client = await BenchClient.open(target.wsUrl);
  await client.connect({ token: target.token });
  const elapsed = performance.now() - started;
  await client.close();
  return elapsed;
}

/** challenge → hello-ok of one client that waits for the challenge, ms. */
async function challengeToHello(target: Target): Promise<number> {
  const client = await BenchClient.open(target.wsUrl);
  await client.connect({ token: target.token, waitForChallenge: true });
  const elapsed = performance.now() - (client.challengeAt ?? Number.NaN);
  await client.close();
  return elapsed;
}
