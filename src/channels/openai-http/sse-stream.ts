/**
 * An SSE reply that may receive deltas before it is opened: the run is
 * subscribed before submit (so nothing is lost), but headers can only be sent
 * once submit has accepted the turn (a refusal is still a JSON error). Deltas
 * that arrive in between are buffered and flushed right after the preamble.
 */

import type { EndpointContext } from './endpoint-support.js';
import { endResponse, isWritable, startSse, writeSseComment } from './http-io.js';

/** Default interval of keepalive comments on an idle stream, ms. */
export const DEFAULT_SSE_KEEPALIVE_MS = 15_000;

export interface SseStream {
  /** Feed one text delta (buffered until `open`). */
  onDelta(delta: string): void;
  /** Everything fed so far. */
  readonly text: string;
  /** Send `finalText` as one last delta when no delta came at all (a provider that does not stream). */
  completeWith(finalText: string): string;
  /** Send headers, then the preamble frames, then any buffered deltas. */
  open(headers: Record<string, string>, writePreamble: () => void): void;
  /** Await `promise` while sending keepalive comments. */
  until<T>(promise: Promise<T>): Promise<T>;
  end(): void;
}

export function openSseStream(ctx: EndpointContext, writeDelta: (delta: string) => void): SseStream {
  const { res } = ctx;
  const keepaliveMs = ctx.deps.options?.sseKeepaliveMs ?? DEFAULT_SSE_KEEPALIVE_MS;
  let opened = false;
  let text = '';
  const pending: string[] = [];
  const feed = (delta: string): void => {
    text += delta;
    if (opened) writeDelta(delta);
    else pending.push(delta);
  };
  return {
    onDelta: feed,
    get text() {
      return text;
    },
    completeWith(finalText) {
      if (text === '' && finalText !== '') feed(finalText);
      return text;
    },
    open(headers, writePreamble) {
      if (!isWritable(res)) return;
      startSse(res, headers);
      writePreamble();
      for (const delta of pending.splice(0)) writeDelta(delta);
      opened = true;
    },
    async until(promise) {
      const timer = setInterval(() => writeSseComment(res, 'keepalive'), keepaliveMs);
      timer.unref();
      try {
        return await promise;
      } finally {
        clearInterval(timer);
      }
    },
    end() {
      endResponse(res);
    },
  };
}
