/**
 * One chat turn, timed on this process's clock: when chat.send left, when the
 * fake model wrote its first content chunk and when the client got its first
 * `chat` delta. Shared by the first-delta and the peer scenarios.
 */

import { randomUUID } from 'node:crypto';
import type { BenchClient } from './bench-client.js';
import { chatErrorOf, chatStateOf } from './chat-frames.js';
import type { BenchContext } from './context.js';

export interface TurnTimes {
  sentAt: number;
  chunkAt: number;
  deltaAt: number;
}

/** Sends one message on `sessionKey` and resolves at its final; rejects (naming `label`) on any other end or after `timeoutMs`. */
export async function timedTurn(
  client: BenchClient,
  sessionKey: string,
  setChunkListener: BenchContext['setChunkListener'],
  options: { label: string; timeoutMs: number },
): Promise<TurnTimes> {
  const { label, timeoutMs } = options;
  let chunkAt: number | undefined;
  let deltaAt: number | undefined;
  setChunkListener((_request, index, at) => {
    if (index === 0 && chunkAt === undefined) chunkAt = at;
  });
  const finished = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: no final within ${timeoutMs} ms`)), timeoutMs).unref();
    client.onEvent = (frame, at) => {
      const state = chatStateOf(frame);
      if (state === 'delta' && deltaAt === undefined) deltaAt = at;
      if (state === 'final' || state === 'error' || state === 'aborted') {
        clearTimeout(timer);
        if (state === 'final') resolve();
        else reject(new Error(`${label} ended with ${state}${state === 'error' ? `: ${chatErrorOf(frame)}` : ''}`));
      }
    };
  });
  const sentAt = performance.now();
  try {
    await Promise.all([client.request('chat.send', { sessionKey, message: 'hello', idempotencyKey: randomUUID() }), finished]);
  } finally {
    client.onEvent = undefined;
  }
  if (chunkAt === undefined || deltaAt === undefined) throw new Error(`${label}: no model chunk or no delta seen`);
  return { sentAt, chunkAt, deltaAt };
}
