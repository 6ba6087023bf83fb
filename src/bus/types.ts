/**
 * In-process event bus contract: publish/subscribe. Each subscriber has its
 * own bounded queue and receives every published event its filter accepts,
 * exactly once and in publish order; no subscriber can take another's events.
 */

export interface Subscription {
  unsubscribe(): void;
  /** Events dropped because this subscriber's queue overflowed. */
  readonly dropped: number;
}

export interface SubscribeOptions<E> {
  /** Only events for which this returns true are queued. */
  filter?: (event: E) => boolean;
  /** Queue bound (default 10000). On overflow `onOverflow` runs and the subscription ends. */
  maxQueue?: number;
  onOverflow?: () => void;
}

export interface OutboundBus<E> {
  publish(event: E): void;
  subscribe(handler: (event: E) => void, options?: SubscribeOptions<E>): Subscription;
  /** Live subscriber count (leak checks). */
  readonly subscriberCount: number;
}
