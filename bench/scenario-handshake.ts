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
  const open = { pincer: await openToHello(ctx.pincer, ctx.counts.handshakes), floor: await openToHello(ctx.floor, ctx.counts.handshakes) };
  const waiting = {
    pincer: await challengeToHello(ctx.pincer, ctx.counts.waitingHandshakes),
    floor: await challengeToHello(ctx.floor, ctx.counts.waitingHandshakes),
  };
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

async function openToHello(target: Target, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const client = await BenchClient.open(target.wsUrl);
    await client.connect({ token: target.token });
    samples.push(performance.now() - started);
    await client.close();
  }
  return samples;
}

async function challengeToHello(target: Target, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const client = await BenchClient.open(target.wsUrl);
    await client.connect({ token: target.token, waitForChallenge: true });
    samples.push(performance.now() - (client.challengeAt ?? Number.NaN));
    await client.close();
  }
  return samples;
}
