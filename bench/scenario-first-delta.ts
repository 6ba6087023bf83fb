/**
 * Added latency of a chat run's first delta: from the moment the fake
 * model writes its first content chunk to the moment the client receives
 * the first `chat` delta. Both clocks are this process's performance.now(),
 * so the figure is what Pincer (SSE parse, agent loop, bus, mapper, fan-out,
 * socket) adds on top of the model.
 */

import { BenchClient, CLIENT_WAIT_MS } from './bench-client.js';
import type { BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import { timedTurn } from './timed-turn.js';

/** Unrecorded runs first: the provider SDK loads on the first call. */
const WARM_UP_RUNS = 3;

export async function measureFirstDelta(ctx: BenchContext): Promise<Figure[]> {
  const client = await BenchClient.connected(ctx.pincer.wsUrl, { token: ctx.pincer.token });
  const added: number[] = [];
  const sendToDelta: number[] = [];
  try {
    for (let i = 0; i < WARM_UP_RUNS + ctx.counts.firstDeltaRuns; i++) {
      const sample = await timedTurn(client, 'bench-first-delta', ctx.setChunkListener, { label: 'first-delta run', timeoutMs: CLIENT_WAIT_MS });
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
