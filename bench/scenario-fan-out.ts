/**
 * Fan-out: N listeners authenticated on one target, one driver starts a
 * burst of events, and every listener counts frames until the burst's last
 * final. Pincer's burst is `fanOutRuns` runs at once, each in its own session
 * with a one-chunk reply: every event of it (lifecycle, delta, assistant,
 * final) goes to every operator connection, and none can be merged with
 * another, since Pincer coalesces deltas only within one run (one run's many
 * chunks become a few frames, which measures the throttle, not the fan-out).
 * The floor's burst is a `bench.fanout` request for the same number of events
 * of the same average size. Deliveries/s = frames received by all listeners
 * from their first delta to their last final ÷ (last final − first delta anywhere).
 */

import { randomUUID } from 'node:crypto';
import { BenchClient, closeClients, openClients } from './bench-client.js';
import { OPEN_CONCURRENCY } from './bench-config.js';
import { chatStateOf } from './chat-frames.js';
import type { BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import type { Target } from './targets.js';

/** Bound of one burst, ms. */
const BURST_TIMEOUT_MS = 60_000;
/** The one-chunk reply of each run. */
const REPLY_TEXT = 'a short reply to fan out';

interface Burst {
  deliveriesPerSecond: number;
  /** Frames each listener received. */
  framesPerClient: number;
  /** Average frame size, bytes. */
  averageBytes: number;
}

export async function measureFanOut(ctx: BenchContext): Promise<Figure[]> {
  const { counts } = ctx;
  const pincer: Burst[] = [];
  const floor: Burst[] = [];
  {
    const listeners = await openClients(ctx.pincer.wsUrl, ctx.pincer.token, counts.fanOutClients, OPEN_CONCURRENCY);
    const driver = await BenchClient.connected(ctx.pincer.wsUrl, { token: ctx.pincer.token });
    try {
      // One unrecorded burst first: the provider SDK loads on the first model call.
      for (let round = -1; round < counts.fanOutRounds; round++) {
        for (let i = 0; i < counts.fanOutRuns; i++) ctx.model.enqueue({ text: [REPLY_TEXT] });
        const result = await burst(listeners, counts.fanOutRuns, () =>
          Promise.all(
            Array.from({ length: counts.fanOutRuns }, (_, i) =>
              driver.request('chat.send', { sessionKey: `bench-fan-out-${i}`, message: 'fan out', idempotencyKey: randomUUID() }),
            ),
          ),
        );
        if (round >= 0) pincer.push(result);
      }
    } finally {
      await closeClients([...listeners, driver]);
    }
  }
  const sample = pincer[0];
  {
    const listeners = await openClients(ctx.floor.wsUrl, ctx.floor.token, counts.fanOutClients, OPEN_CONCURRENCY);
    const driver = await BenchClient.connected(ctx.floor.wsUrl, { token: ctx.floor.token });
    try {
      for (let round = 0; round < counts.fanOutRounds; round++) {
        floor.push(
          await burst(listeners, 1, () =>
            driver.request('bench.fanout', { count: Math.round(sample.framesPerClient), payloadBytes: Math.round(sample.averageBytes) }),
          ),
        );
      }
    } finally {
      await closeClients([...listeners, driver]);
    }
  }
  ctx.log(`fan-out: ${sample.framesPerClient} frames per client, ${Math.round(sample.averageBytes)} B average`);
  return [
    {
      id: 'fan_out_dps',
      label: `fan-out deliveries/s (${counts.fanOutClients} clients, ${counts.fanOutRuns} one-chunk runs at once)`,
      unit: 'frames/s',
      statistic: 'median',
      pincer: summarise(pincer.map((b) => b.deliveriesPerSecond)),
      floor: summarise(floor.map((b) => b.deliveriesPerSecond)),
      budget: { kind: 'ratio-min', limit: 0.5 },
      note: `${sample.framesPerClient} event frames per client per burst, ${Math.round(sample.averageBytes)} bytes on average; the floor sends as many of that size`,
    },
  ];
}

/** Start one burst with `start` and resolve once every listener has seen `finals` final frames. */
async function burst(listeners: readonly BenchClient[], finals: number, start: () => Promise<unknown>): Promise<Burst> {
  let frames = 0;
  let bytes = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let pending = listeners.length;
  let failure: string | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fan-out burst: ${pending} listeners saw no final within ${BURST_TIMEOUT_MS} ms`)), BURST_TIMEOUT_MS).unref();
    for (const listener of listeners) {
      let counting = false;
      let finished = false;
      let finalsSeen = 0;
      listener.onEvent = (frame, at) => {
        if (finished) return;
        const state = chatStateOf(frame);
        // Count from the first delta: run start-up (Pincer's model request) is not fan-out.
        if (!counting && state !== 'delta') return;
        counting = true;
        frames++;
        bytes += frame.length;
        if (at < first) first = at;
        if (state === 'error' || state === 'aborted') failure ??= `run ended with ${state}`;
        if (state === 'final' || state === 'error' || state === 'aborted') {
          if (++finalsSeen < finals) return;
          finished = true;
          if (at > last) last = at;
          if (--pending === 0) {
            clearTimeout(timer);
            resolve();
          }
        }
      };
    }
  });
  await Promise.all([start(), done]);
  for (const listener of listeners) listener.onEvent = undefined;
  if (failure !== undefined) throw new Error(`fan-out burst failed: ${failure}`);
  return {
    deliveriesPerSecond: frames / ((last - first) / 1000),
    framesPerClient: frames / listeners.length,
    averageBytes: bytes / Math.max(1, frames),
  };
}

