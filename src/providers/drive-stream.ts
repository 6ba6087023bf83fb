/**
 * The part of a model call every provider shares: attempts with backoff
 * before the first byte, an idle timeout, abort, and the never-throw contract
 * of Provider.stream(). A provider supplies only `attempt`, which opens one
 * HTTP stream and translates its chunks.
 */

import type { ProviderEvent } from './types.js';
import { streamCutError, timeoutError, unexpectedError } from './provider-errors.js';
import type { ErrorContext, MappedFailure, ProviderErrorEvent } from './provider-errors.js';
import { abortableSleep } from './abortable-sleep.js';

/** Longest wait between two attempts, whatever the provider's Retry-After says, ms. */
export const MAX_RETRY_DELAY_MS = 30_000;
/** Default first backoff step, doubled per retry, ms. */
export const DEFAULT_RETRY_BASE_DELAY_MS = 500;
/** Ceiling of the computed backoff (before Retry-After), ms. */
const MAX_BACKOFF_MS = 8_000;

/** What one attempt yields: provider events, and `progress` whenever a chunk arrives. */
export type AttemptEvent = ProviderEvent | { type: 'progress' };

/** Thrown inside an attempt to end it with a specific error event. */
export class ProviderFailure extends Error {
  readonly event: ProviderErrorEvent;
  constructor(event: ProviderErrorEvent) {
    super(event.message);
    this.name = 'ProviderFailure';
    this.event = event;
  }
}

export interface DriveOptions {
  signal: AbortSignal;
  /** Longest wait for the response and then for each next chunk, ms. */
  timeoutMs: number;
  /** Retries of retryable failures that happen before any event reached the caller. */
  maxRetries: number;
  /** First backoff step, ms (default 500). */
  retryBaseDelayMs?: number;
  errorContext: ErrorContext;
  /**
   * One-time set-up before the first attempt (loading the SDK), outside the
   * timeout. Throw ProviderFailure to end the call with that error.
   */
  prepare?: () => Promise<void>;
  /**
   * Open one HTTP stream and translate it. Yields `done` last on success;
   * ending without `done` means the stream was cut. Throws on failure. Must
   * stop soon after `signal` aborts (pass it to the SDK).
   */
  attempt: (signal: AbortSignal) => AsyncIterable<AttemptEvent>;
  /** Map anything `attempt` throws (other than ProviderFailure). */
  mapError: (err: unknown) => MappedFailure;
}

type AttemptOutcome =
  | { kind: 'done' }
  | { kind: 'aborted' }
  | { kind: 'failed'; event: ProviderErrorEvent; retryAfterMs?: number; mayRetry: boolean };

/**
 * Run a model call to exactly one terminal event (`done`, `error` or
 * `aborted`). Never throws; the returned iterator never rejects. Stopping the
 * iteration early cancels the HTTP stream.
 */
export async function* driveStream(options: DriveOptions): AsyncGenerator<ProviderEvent, void, undefined> {
  try {
    if (options.signal.aborted) {
      yield { type: 'aborted' };
      return;
    }
    if (options.prepare) {
      const failure = await prepareOrFail(options.prepare, options.signal);
      if (failure === 'aborted') {
        yield { type: 'aborted' };
        return;
      }
      if (failure) {
        yield failure;
        return;
      }
    }
    const baseDelay = options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
    for (let attempt = 0; ; attempt++) {
      const outcome = yield* runAttempt(options);
      if (outcome.kind === 'done') return;
      if (outcome.kind === 'aborted') {
        yield { type: 'aborted' };
        return;
      }
      // A retry before the provider's Retry-After would only be refused again; fail now and let
      // failover or the caller's cooldown wait instead.
      const waitTooLong = outcome.retryAfterMs !== undefined && outcome.retryAfterMs > MAX_RETRY_DELAY_MS;
      if (outcome.mayRetry && outcome.event.retryable && attempt < options.maxRetries && !waitTooLong) {
        const delay = Math.min(outcome.retryAfterMs ?? backoffMs(baseDelay, attempt), MAX_RETRY_DELAY_MS);
        if (!(await abortableSleep(delay, options.signal))) {
          yield { type: 'aborted' };
          return;
        }
        continue;
      }
      yield outcome.retryAfterMs === undefined ? outcome.event : withRetryAfter(outcome.event, outcome.retryAfterMs);
      return;
    }
  } catch (err) {
    // Only a bug in a provider's translation code gets here.
    yield unexpectedError(err);
  }
}

/**
 * The iterator's next result, or 'stopped' as soon as `signal` aborts, so a
 * stuck read never delays the terminal event. Not Promise.race against one
 * promise that stays pending for the whole attempt: each race would leave a
 * reaction on it that keeps that step's event (and its text) alive until the
 * attempt ends, a whole reply's worth of chunks.
 */
function nextOrStopped<T>(iterator: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T> | 'stopped'> {
  if (signal.aborted) return Promise.resolve('stopped');
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve('stopped');
    signal.addEventListener('abort', onAbort, { once: true });
    iterator.next().then(
      (result) => {
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

async function* runAttempt(options: DriveOptions): AsyncGenerator<ProviderEvent, AttemptOutcome, undefined> {
  const controller = new AbortController();
  const onCallerAbort = (): void => controller.abort();
  options.signal.addEventListener('abort', onCallerAbort, { once: true });
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const armTimer = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.timeoutMs);
  };
  // Retrying is safe until an event has been handed to the caller.
  let delivered = false;
  const iterator = options.attempt(controller.signal)[Symbol.asyncIterator]();
  const failed = (failure: MappedFailure): AttemptOutcome => ({
    kind: 'failed',
    event: failure.event,
    retryAfterMs: failure.retryAfterMs,
    mayRetry: !delivered,
  });
  const interrupted = (): AttemptOutcome | undefined => {
    if (options.signal.aborted) return { kind: 'aborted' };
    if (timedOut) {
      return { kind: 'failed', event: timeoutError({ ...options.errorContext, timeoutMs: options.timeoutMs }), mayRetry: false };
    }
    return undefined;
  };
  armTimer();
  try {
    for (;;) {
      const next = await nextOrStopped(iterator, controller.signal);
      if (next === 'stopped' || next.done) break;
      const event = next.value;
      if (event.type === 'progress') {
        armTimer();
        continue;
      }
      // The caller's own pace must not count against the provider.
      clearTimeout(timer);
      delivered = true;
      yield event;
      const stop = interrupted();
      if (stop) return stop;
      if (event.type === 'done') return { kind: 'done' };
      armTimer();
    }
    return interrupted() ?? failed({ event: streamCutError() });
  } catch (err) {
    const stop = interrupted();
    if (stop) return stop;
    return failed(err instanceof ProviderFailure ? { event: err.event } : options.mapError(err));
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onCallerAbort);
    // Closes the HTTP stream when the attempt ended early (cut, timeout, caller stopped).
    controller.abort();
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

/** Run `prepare`; the caller's abort wins the race. */
async function prepareOrFail(prepare: () => Promise<void>, signal: AbortSignal): Promise<ProviderErrorEvent | 'aborted' | undefined> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const result = await Promise.race([prepare().then(() => undefined), aborted]);
    return result ?? (signal.aborted ? 'aborted' : undefined);
  } catch (err) {
    if (signal.aborted) return 'aborted';
    return err instanceof ProviderFailure ? err.event : unexpectedError(err);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** The error with the provider's wait attached and, when long, said in the message. */
function withRetryAfter(event: ProviderErrorEvent, retryAfterMs: number): ProviderErrorEvent {
  const message = retryAfterMs >= 1_000 ? `${event.message}; the provider asks to retry after ${Math.ceil(retryAfterMs / 1_000)} s` : event.message;
  return { ...event, message, retryAfterMs };
}

function backoffMs(baseMs: number, attempt: number): number {
  const jitter = 0.75 + Math.random() * 0.5;
  return Math.min(baseMs * 2 ** attempt, MAX_BACKOFF_MS) * jitter;
}

