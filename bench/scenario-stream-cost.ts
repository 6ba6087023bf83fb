/**
 * What a streamed reply costs (issue 13 items 6-7, issue 22 items 3-4).
 * Bytes per watcher: a 64 KB reply of 2,000 chunks, burst by the model,
 * watched by several clients; each counts the event bytes it receives for
 * the run, as a multiple of the reply (every delta used to carry the whole
 * text so far: 2,000× and more). Peak RSS: the gateway's RSS, polled during
 * those runs. 10 MB reply: a fresh gateway streams one 10 MB reply; its RSS
 * growth (peak − before) as a multiple of the reply.
 */

import { randomUUID } from 'node:crypto';
import { BenchClient, closeClients, openClients } from './bench-client.js';
import { OPEN_CONCURRENCY } from './bench-config.js';
import { chatErrorOf, chatStateOf } from './chat-frames.js';
import { MIB, type BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import { startTarget, type Target } from './targets.js';

/** The streamed reply of issue 13 item 7: 2,000 chunks of 32 bytes. */
const STREAM_CHUNKS = 2000;
const STREAM_CHUNK_BYTES = 32;
/** Clients watching each streamed run (besides the one that sends). */
const WATCHERS = 3;
/** Chunk size of the large reply of issue 13 item 6 (2,000 of them in the full run: 10 MB). */
const LARGE_CHUNK_BYTES = 5 * 1024;
/** The warm-up reply of a large-reply gateway is the large reply's size over this. */
const WARM_UP_DIVISOR = 10;
/** Peak RSS allowed above the RSS before the streamed runs, MiB (one delta per chunk, as before coalescing, costs far more). */
const PEAK_RSS_HEADROOM_MIB = 64;
/** RSS poll period while a run streams, ms. */
const RSS_POLL_MS = 10;
/** Bound of one run, ms. */
const RUN_TIMEOUT_MS = 120_000;

export async function measureStreamCost(ctx: BenchContext): Promise<Figure[]> {
  const replyBytes = STREAM_CHUNKS * STREAM_CHUNK_BYTES;
  const ratios: number[] = [];
  const watchers = await openClients(ctx.pincer.wsUrl, ctx.pincer.token, WATCHERS, OPEN_CONCURRENCY);
  const driver = await BenchClient.connected(ctx.pincer.wsUrl, { token: ctx.pincer.token });
  // One unmeasured run: the provider SDK loads on the first model call when this scenario runs alone.
  ctx.model.enqueue({ text: ['warm'] });
  await watchRun([driver], () => driver.request('chat.send', { sessionKey: 'bench-stream-cost', message: 'warm', idempotencyKey: randomUUID() }));
  const rssBefore = await ctx.pincer.rssBytes();
  const rss = pollRss(ctx.pincer);
  try {
    for (let round = 0; round < ctx.counts.streamCostRounds; round++) {
      ctx.model.enqueue({ text: Array.from({ length: STREAM_CHUNKS }, (_, i) => chunkText(i, STREAM_CHUNK_BYTES)) });
      const bytes = await watchRun([...watchers, driver], () =>
        driver.request('chat.send', { sessionKey: 'bench-stream-cost', message: 'stream', idempotencyKey: randomUUID() }),
      );
      // The driver is a watcher too, but its res frames are not events: count only the pure watchers.
      for (const count of bytes.slice(0, WATCHERS)) ratios.push(count / replyBytes);
    }
  } finally {
    await closeClients([...watchers, driver]);
  }
  const peakRss = await rss.stop();
  const large = await measureLargeReply(ctx);
  const largeReplyBytes = ctx.counts.largeReplyChunks * LARGE_CHUNK_BYTES;
  const first = summarise(large.map((round) => round.first));
  const second = summarise(large.map((round) => round.second));
  ctx.log(`stream cost: ${summarise(ratios).p99.toFixed(1)}× the reply per watcher; peak RSS ${(peakRss / MIB).toFixed(1)} MiB; large reply RSS growth ${first.median.toFixed(2)}×, a second one ${second.median.toFixed(2)}×`);
  return [
    {
      id: 'stream_bytes_per_watcher_x_reply',
      label: `event bytes per watcher ÷ reply bytes (64 KB reply in ${STREAM_CHUNKS} chunks, burst)`,
      unit: '×',
      statistic: 'p99',
      pincer: summarise(ratios),
      budget: { kind: 'abs-max', limit: 20 },
      note: `${WATCHERS} watchers × ${ctx.counts.streamCostRounds} runs; each chat delta and agent assistant event carries the text so far`,
    },
    {
      id: 'stream_peak_rss_mib',
      label: `peak RSS while streaming those runs to ${WATCHERS + 1} clients`,
      unit: 'MiB',
      statistic: 'median',
      pincer: summarise([peakRss / MIB]),
      budget: { kind: 'abs-max', limit: Math.ceil(rssBefore / MIB) + PEAK_RSS_HEADROOM_MIB },
      note: `RSS before the runs: ${(rssBefore / MIB).toFixed(1)} MiB; budget: that + ${PEAK_RSS_HEADROOM_MIB} MiB`,
    },
    {
      id: 'large_reply_rss_growth_x_reply',
      label: `RSS growth while streaming one ${((largeReplyBytes) / 1e6).toFixed(0)} MB reply ÷ reply bytes (fresh gateway, after one ${(largeReplyBytes / WARM_UP_DIVISOR / 1e6).toFixed(1)} MB reply)`,
      unit: '×',
      statistic: 'median',
      pincer: first,
      budget: { kind: 'abs-max', limit: 3 },
      note: `peak RSS during the run minus RSS just before it, median of ${large.length} gateways; the final event carries the reply cut to 1 MiB`,
    },
    {
      id: 'large_reply_warm_up_growth_mib',
      label: `RSS growth while streaming the first ${(largeReplyBytes / WARM_UP_DIVISOR / 1e6).toFixed(1)} MB reply of a fresh gateway`,
      unit: 'MiB',
      statistic: 'median',
      pincer: summarise(large.map((round) => round.warmUpMib)),
      note: 'one-time: the optimizing compiler (its threads\' malloc arenas, its code paged in from the node binary) and the heap grown for the stream',
    },
    {
      id: 'large_reply_again_rss_growth_x_reply',
      label: 'RSS growth while streaming a second such reply on the same gateway ÷ reply bytes',
      unit: '×',
      statistic: 'median',
      pincer: second,
      note: "the reply's own cost once the heap has grown for the first one (V8 does not give back what it grew)",
    },
  ];
}

/**
 * Fresh gateways, one watcher each, one 10 MB reply: RSS growth ÷ reply
 * bytes; then a second one on the same gateway, whose growth is the reply's
 * own cost once the heap has grown to carry the first (V8 keeps what it grew).
 * Each gateway first streams a reply a tenth the size: the optimizing
 * compiler's one-time cost (its threads' malloc arenas, its code paged in
 * from the node binary) comes with the first few hundred chunks of any
 * stream, whatever its size, so it is reported on its own, not per reply byte.
 */
async function measureLargeReply(ctx: BenchContext): Promise<LargeReplyRound[]> {
  const rounds: LargeReplyRound[] = [];
  for (let round = 0; round < ctx.counts.largeReplyRounds; round++) rounds.push(await measureLargeReplyOnce(ctx));
  return rounds;
}

interface LargeReplyRound {
  /** RSS growth of the warm-up reply, MiB. */
  warmUpMib: number;
  /** RSS growth ÷ reply bytes, first and second large reply. */
  first: number;
  second: number;
}

async function measureLargeReplyOnce(ctx: BenchContext): Promise<LargeReplyRound> {
  const target = await startTarget('pincer', { modelUrl: ctx.model.url });
  try {
    const client = await BenchClient.connected(target.wsUrl, { token: target.token });
    try {
      const count = ctx.counts.largeReplyChunks;
      const replyBytes = count * LARGE_CHUNK_BYTES;
      const growth = async (sessionKey: string, chunks: string[]): Promise<number> => {
        ctx.model.enqueue({ text: chunks });
        const before = await target.rssBytes();
        const rss = pollRss(target);
        await watchRun([client], () => client.request('chat.send', { sessionKey, message: 'stream', idempotencyKey: randomUUID() }));
        return (await rss.stop()) - before;
      };
      const warmUp = await growth('bench-warm', largeChunks(Math.ceil(count / WARM_UP_DIVISOR)));
      const chunks = largeChunks(count);
      const first = (await growth('bench-large-reply', chunks)) / replyBytes;
      const second = (await growth('bench-large-reply-again', chunks)) / replyBytes;
      return { warmUpMib: warmUp / MIB, first, second };
    } finally {
      await client.close();
    }
  } finally {
    await target.stop();
  }
}

function largeChunks(count: number): string[] {
  return Array.from({ length: count }, (_, i) => chunkText(i, LARGE_CHUNK_BYTES));
}

/** Start a run and resolve with the event bytes each client received until its terminal chat event. */
async function watchRun(clients: readonly BenchClient[], start: () => Promise<unknown>): Promise<number[]> {
  const bytes = clients.map(() => 0);
  let pending = clients.length;
  let failure: string | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stream cost: ${pending} clients saw no final within ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS).unref();
    clients.forEach((client, i) => {
      let finished = false;
      client.onEvent = (frame) => {
        if (finished) return;
        bytes[i]! += frame.length;
        const state = chatStateOf(frame);
        if (state === 'error') failure ??= chatErrorOf(frame);
        if (state === 'aborted') failure ??= 'run aborted';
        if (state === 'final' || state === 'error' || state === 'aborted') {
          finished = true;
          if (--pending === 0) {
            clearTimeout(timer);
            resolve();
          }
        }
      };
    });
  });
  await Promise.all([start(), done]);
  for (const client of clients) client.onEvent = undefined;
  if (failure !== undefined) throw new Error(`stream cost run failed: ${failure}`);
  return bytes;
}

/** Poll a target's RSS until stopped; resolves with the peak, bytes. */
function pollRss(target: Target): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        peak = Math.max(peak, await target.rssBytes());
      } catch {
        // The process is gone; the scenario fails elsewhere.
      }
      await new Promise((resolve) => setTimeout(resolve, RSS_POLL_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

/** A chunk of `bytes` ASCII bytes that starts with its index, so chunks differ. */
function chunkText(index: number, bytes: number): string {
  return `${index} `.padEnd(bytes, 'abcdefghij'[index % 10]!);
}
