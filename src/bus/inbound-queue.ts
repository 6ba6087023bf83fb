/**
 * Channel → agent request queue with exactly one consumer. Requests made
 * before the consumer registers wait (bounded) and are handed over in order.
 */

import type { InboundQueue } from './types.js';

/** Requests held while no consumer is registered (count). */
export const DEFAULT_MAX_PENDING_REQUESTS = 1_000;

export interface InboundQueueOptions {
  /** Requests held before `consume` is called; more are rejected (default 1000). */
  maxPending?: number;
}

interface PendingRequest<Req, Res> {
  message: Req;
  resolve: (value: Res) => void;
  reject: (reason: unknown) => void;
}

/** Create a single-consumer InboundQueue: `consume` may be called once. */
export function createInboundQueue<Req, Res>(options: InboundQueueOptions = {}): InboundQueue<Req, Res> {
  return new SingleConsumerQueue<Req, Res>(options.maxPending ?? DEFAULT_MAX_PENDING_REQUESTS);
}

class SingleConsumerQueue<Req, Res> implements InboundQueue<Req, Res> {
  #handler: ((message: Req) => Promise<Res>) | undefined;
  #pending: PendingRequest<Req, Res>[] = [];
  readonly #maxPending: number;

  constructor(maxPending: number) {
    this.#maxPending = maxPending;
  }

  request(message: Req): Promise<Res> {
    const handler = this.#handler;
    if (handler !== undefined) return invoke(handler, message);
    if (this.#pending.length >= this.#maxPending) {
      return Promise.reject(new Error(`inbound queue full: no consumer yet and ${this.#maxPending} requests waiting`));
    }
    return new Promise<Res>((resolve, reject) => {
      this.#pending.push({ message, resolve, reject });
    });
  }

  consume(handler: (message: Req) => Promise<Res>): void {
    if (this.#handler !== undefined) throw new Error('inbound queue already has a consumer');
    this.#handler = handler;
    const waiting = this.#pending;
    this.#pending = [];
    for (const item of waiting) invoke(handler, item.message).then(item.resolve, item.reject);
  }
}

/** Call the consumer so that a synchronous throw becomes a rejection, like an async handler's. */
function invoke<Req, Res>(handler: (message: Req) => Promise<Res>, message: Req): Promise<Res> {
  try {
    return Promise.resolve(handler(message));
  } catch (error) {
    return Promise.reject(error);
  }
}
