/**
 * Send one chat.send to each of many sessions at once and wait until every
 * run has its terminal `chat` frame. Shared by the concurrent-runs and the
 * chat-memory scenarios.
 */

import { randomUUID } from 'node:crypto';
import type { BenchClient } from './bench-client.js';
import { chatErrorOf, chatRunIdOf, chatStateOf } from './chat-frames.js';

/** Bound of one wave, ms. */
const WAVE_TIMEOUT_MS = 120_000;

/** Resolves with the wave's duration, ms (first send → last final); rejects if any run fails. */
export async function runChatWave(client: BenchClient, sessionKeys: readonly string[]): Promise<number> {
  const waiting = new Set<string>();
  const ended = new Map<string, string>();
  let failure: string | undefined;
  let settle: (() => void) | undefined;
  const allDone = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chat wave: ${waiting.size} runs without a final after ${WAVE_TIMEOUT_MS} ms`)), WAVE_TIMEOUT_MS).unref();
    settle = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  let acked = false;
  const check = (): void => {
    if (acked && waiting.size === 0) settle?.();
  };
  client.onEvent = (frame) => {
    const state = chatStateOf(frame);
    if (state === undefined || state === 'delta') return;
    const runId = chatRunIdOf(frame);
    if (runId === undefined) return;
    if (state !== 'final') failure ??= `run ${runId} ended with ${state}: ${state === 'error' ? chatErrorOf(frame) : ''}`;
    ended.set(runId, state);
    waiting.delete(runId);
    check();
  };
  const started = performance.now();
  try {
    const acks = await Promise.all(
      sessionKeys.map((sessionKey) => client.request('chat.send', { sessionKey, message: 'hello', idempotencyKey: randomUUID() })),
    );
    for (const ack of acks) {
      const runId = (ack as { runId?: unknown }).runId;
      if (typeof runId !== 'string') throw new Error('chat.send answered without a runId');
      if (!ended.has(runId)) waiting.add(runId);
    }
    acked = true;
    check();
    await allDone;
  } finally {
    client.onEvent = undefined;
  }
  if (failure !== undefined) throw new Error(`chat wave failed: ${failure}`);
  return performance.now() - started;
}
