/**
 * In-process publish/subscribe bus for run and session events.
 *
 * `publish` fans an event out synchronously into each interested subscriber's
 * own bounded queue; one microtask per burst then drains every queue that has
 * work. Handlers never run inside `publish`, so a publisher is never re-entered
 * and a handler that publishes cannot reorder what others see.
 */

import type { OutboundBus, SubscribeOptions, Subscription } from './types.js';

/** Queue bound per subscriber when `maxQueue` is not given (events). */
export const DEFAULT_MAX_QUEUE_EVENTS = 10_000;

export interface EventBusOptions {
  /** Called when a handler or an overflow callback throws; the bus itself goes on. */
  onHandlerError?: (error: unknown) => void;
}

/** Create an OutboundBus: per-subscriber bounded queues, publish order, exactly once. */
export function createEventBus<E>(options: EventBusOptions = {}): OutboundBus<E> {
  return new EventBus<E>(options.onHandlerError);
}

class Subscriber<E> implements Subscription {
  readonly #bus: EventBus<E>;
  readonly handler: (event: E) => void;
  readonly filter: ((event: E) => boolean) | undefined;
  readonly maxQueue: number;
  readonly onOverflow: (() => void) | undefined;
  queue: E[] = [];
  active = true;
  #dropped = 0;

  constructor(bus: EventBus<E>, handler: (event: E) => void, options: SubscribeOptions<E>) {
    this.#bus = bus;
    this.handler = handler;
    this.filter = options.filter;
    this.onOverflow = options.onOverflow;
    const max = options.maxQueue ?? DEFAULT_MAX_QUEUE_EVENTS;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxQueue must be a positive integer, got ${max}`);
    this.maxQueue = max;
  }

  get dropped(): number {
    return this.#dropped;
  }

  addDropped(count: number): void {
    this.#dropped += count;
  }

  unsubscribe(): void {
    if (!this.active) return;
    this.active = false;
    this.queue = [];
    this.#bus.remove(this);
  }
}

class EventBus<E> implements OutboundBus<E> {
  readonly #subscribers = new Set<Subscriber<E>>();
  /** Subscribers with queued events, in the order they first got one. */
  readonly #pending = new Set<Subscriber<E>>();
  #flushScheduled = false;
  readonly #onHandlerError: (error: unknown) => void;
  readonly #flush = (): void => this.#drain();

  constructor(onHandlerError: ((error: unknown) => void) | undefined) {
    const report = onHandlerError ?? reportHandlerError;
    // The reporter must not throw either: the drain would stop with events still queued.
    this.#onHandlerError = (error) => {
      try {
        report(error);
      } catch {
        // Nothing left to tell.
      }
    };
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  publish(event: E): void {
    for (const sub of this.#subscribers) {
      if (sub.filter !== undefined) {
        let wanted: boolean;
        try {
          wanted = sub.filter(event);
        } catch (error) {
          this.#onHandlerError(error);
          continue;
        }
        if (!wanted) continue;
      }
      if (sub.queue.length >= sub.maxQueue) {
        this.#overflow(sub);
        continue;
      }
      sub.queue.push(event);
      this.#pending.add(sub);
    }
    if (this.#pending.size > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  subscribe(handler: (event: E) => void, options: SubscribeOptions<E> = {}): Subscription {
    const sub = new Subscriber(this, handler, options);
    this.#subscribers.add(sub);
    return sub;
  }

  remove(sub: Subscriber<E>): void {
    this.#subscribers.delete(sub);
    this.#pending.delete(sub);
  }

  /** The subscriber fell behind: it loses what is queued and its subscription ends. */
  #overflow(sub: Subscriber<E>): void {
    sub.addDropped(sub.queue.length + 1);
    sub.unsubscribe();
    const onOverflow = sub.onOverflow;
    if (onOverflow === undefined) return;
    // Run the callback outside publish(), like handlers, so publishers are never re-entered.
    queueMicrotask(() => {
      try {
        onOverflow();
      } catch (error) {
        this.#onHandlerError(error);
      }
    });
  }

  #drain(): void {
    this.#flushScheduled = false;
    // A Set visits entries added while iterating, so events published by a
    // handler during this drain are delivered in the same pass.
    for (const sub of this.#pending) {
      this.#pending.delete(sub);
      const batch = sub.queue;
      const handler = sub.handler;
      sub.queue = [];
      for (let i = 0; i < batch.length && sub.active; i++) {
        try {
          const result: unknown = handler(batch[i]);
          if (isPromiseLike(result)) result.then(undefined, this.#onHandlerError);
        } catch (error) {
          this.#onHandlerError(error);
        }
      }
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function reportHandlerError(error: unknown): void {
  // No logger at this layer: report without letting one subscriber break the others.
  process.emitWarning(`event bus handler failed: ${error instanceof Error ? error.message : String(error)}`, 'PincerBusWarning');
}
