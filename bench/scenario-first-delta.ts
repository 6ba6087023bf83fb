/**
 * Added latency of a chat run's first delta: from the moment the fake
 * model writes its first content chunk to the moment the client receives
 * the first `chat` delta. Both clocks are this process's performance.now(),
 * so the figure is what Pincer (SSE parse, agent loop, bus, mapper, fan-out,
 * socket) adds on top of the model.
 */

import { randomUUID } from 'node:crypto';
import { BenchClient, CLIENT_WAIT_MS } from './bench-client.js';
import { chatErrorOf, chatStateOf } from './chat-frames.js';
import type { BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';

/** Unrecorded runs first: the provider SDK loads on the first call. */
const WARM_UP_RUNS = 3;

export async function measureFirstDelta(ctx: BenchContext): Promise<Figure[]> {
  const client = await BenchClient.connected(ctx.pincer.wsUrl, { token: ctx.pincer.token });
  const added: number[] = [];
  const sendToDelta: number[] = [];
  try {
    for (let i = 0; i < WARM_UP_RUNS + ctx.counts.firstDeltaRuns; i++) {
      const sample = await oneRun(ctx, client);
      if (i < WARM_UP_RUNS) continue;
      added.push(sample.deltaAt - sample.chunkAt);
      sendToDelta.push(sample.deltaAt - sample.sentAt);
    }
  } finally {
    ctx.setChunkListener(undefined);
    await client.close();
  }
  return [
    {
      id: 'first_delta_added_ms',
      label: 'model first chunk → client first delta (added)',
      unit: 'ms',
      statistic: 'median',
      pincer: summarise(added),
      budget: { kind: 'abs-max', limit: 5 },
    },
    {
      id: 'send_to_first_delta_ms',
      label: 'chat.send → first delta (zero-delay model)',
      unit: 'ms',
      statistic: 'median',
      pincer: summarise(sendToDelta),
    },
  ];
}

async function oneRun(ctx: BenchContext, client: BenchClient): Promise<{ sentAt: number; chunkAt: number; deltaAt: number }> {
  let chunkAt: number | undefined;
  let deltaAt: number | undefined;
  ctx.setChunkListener((_request, index, at) => {
    if (index === 0 && chunkAt === undefined) chunkAt = at;
  });
  const finished = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('first-delta run: no final')), CLIENT_WAIT_MS).unref();
    client.onEvent = (frame, at) => {
      const state = chatStateOf(frame);
      if (state === 'delta' && deltaAt === undefined) deltaAt = at;
      if (state === 'final' || state === 'error' || state === 'aborted') {
        clearTimeout(timer);
        if (state === 'final') resolve();
        else reject(new Error(`first-delta run ended with ${state}: ${state === 'error' ? chatErrorOf(frame) : ''}`));
      }
    };
  });
  const sentAt = performance.now();
  await Promise.all([client.request('chat.send', { sessionKey: 'bench-first-delta', message: 'hello', idempotencyKey: randomUUID() }), finished]);
  client.onEvent = undefined;
  if (chunkAt === undefined || deltaAt === undefined) throw new Error('first-delta run: no model chunk or no delta seen');
  return { sentAt, chunkAt, deltaAt };
}
