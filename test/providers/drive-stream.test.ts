import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import assert from 'node:assert/strict';
import { ProviderFailure, driveStream } from '../../src/providers/drive-stream.js';
import type { AttemptEvent, DriveOptions } from '../../src/providers/drive-stream.js';
import type { ProviderEvent } from '../../src/providers/types.js';
import { streamCutError } from '../../src/providers/provider-errors.js';
import { assertOneTerminal } from './provider-conformance.js';

const CONTEXT = { model: 'm', baseUrl: 'http://127.0.0.1:1', timeoutMs: 100 };

function options(attempt: DriveOptions['attempt'], overrides: Partial<DriveOptions> = {}): DriveOptions {
  return {
    signal: new AbortController().signal,
    timeoutMs: 100,
    maxRetries: 2,
    retryBaseDelayMs: 1,
    errorContext: CONTEXT,
    attempt,
    mapError: (err) => ({ event: { type: 'error', message: `mapped: ${String(err)}`, retryable: true } }),
    ...overrides,
  };
}

async function drain(iterable: AsyncIterable<ProviderEvent>): Promise<ProviderEvent[]> {
  const events: ProviderEvent[] = [];
  for await (const event of iterable) events.push(event);
  assertOneTerminal(events);
  return events;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('driveStream', () => {
  it('passes events through and stops at done', async () => {
    const events = await drain(
      driveStream(
        options(async function* () {
          yield { type: 'progress' };
          yield { type: 'text', delta: 'a' };
          yield { type: 'done', stopReason: 'stop' };
          yield { type: 'text', delta: 'after done' };
        }),
      ),
    );
    assert.deepEqual(events, [
      { type: 'text', delta: 'a' },
      { type: 'done', stopReason: 'stop' },
    ]);
  });

  it('reports a stream that ends without done as cut', async () => {
    const events = await drain(
      driveStream(
        options(async function* () {
          yield { type: 'text', delta: 'a' };
        }),
      ),
    );
    assert.deepEqual(events.at(-1), streamCutError());
  });

  it('retries a retryable failure before any output, up to maxRetries', async () => {
    let attempts = 0;
    const events = await drain(
      driveStream(
        options(async function* (): AsyncGenerator<AttemptEvent> {
          attempts++;
          throw new Error('boom');
        }),
      ),
    );
    assert.equal(attempts, 3);
    assert.deepEqual(events, [{ type: 'error', message: 'mapped: Error: boom', retryable: true }]);
  });

  it('does not retry once output reached the caller', async () => {
    let attempts = 0;
    const events = await drain(
      driveStream(
        options(async function* () {
          attempts++;
          yield { type: 'thinking', delta: 't' };
          throw new Error('cut');
        }),
      ),
    );
    assert.equal(attempts, 1);
    assert.equal(events.at(-1)?.type, 'error');
  });

  it('does not retry a failure that is not retryable', async () => {
    let attempts = 0;
    const events = await drain(
      driveStream(
        options(async function* (): AsyncGenerator<AttemptEvent> {
          attempts++;
          throw new ProviderFailure({ type: 'error', message: 'bad key', status: 401, retryable: false });
        }),
      ),
    );
    assert.equal(attempts, 1);
    assert.deepEqual(events, [{ type: 'error', message: 'bad key', status: 401, retryable: false }]);
  });

  it('progress keeps a slow but steady stream alive; silence times it out', async () => {
    const steady = await drain(
      driveStream(
        options(
          async function* (signal) {
            for (let i = 0; i < 5; i++) {
              await pause(30, signal);
              yield { type: 'progress' };
            }
            yield { type: 'done', stopReason: 'stop' };
          },
          { timeoutMs: 80 },
        ),
      ),
    );
    assert.deepEqual(steady, [{ type: 'done', stopReason: 'stop' }]);
    const silent = await drain(
      driveStream(
        options(
          async function* (signal) {
            await pause(1_000, signal);
            yield { type: 'done', stopReason: 'stop' };
          },
          { timeoutMs: 50 },
        ),
      ),
    );
    assert.deepEqual(silent, [{ type: 'error', message: 'model request timed out after 50 ms', retryable: true }]);
  });

  it('ends with aborted even when the attempt ignores its signal', async () => {
    const controller = new AbortController();
    const iterable = driveStream(
      options(
        async function* () {
          yield { type: 'text', delta: 'a' };
          await new Promise(() => undefined);
        },
        { signal: controller.signal, timeoutMs: 60_000 },
      ),
    );
    const events: ProviderEvent[] = [];
    for await (const event of iterable) {
      events.push(event);
      if (event.type === 'text') controller.abort();
    }
    assert.deepEqual(events, [{ type: 'text', delta: 'a' }, { type: 'aborted' }]);
  });

  it('aborts the attempt signal when the caller stops iterating', async () => {
    let attemptSignal: AbortSignal | undefined;
    for await (const event of driveStream(
      options(async function* (signal) {
        attemptSignal = signal;
        yield { type: 'text', delta: 'a' };
        yield { type: 'text', delta: 'b' };
      }),
    )) {
      assert.equal(event.type, 'text');
      break;
    }
    assert.equal(attemptSignal?.aborted, true);
  });

  it('turns a failing prepare into an error, with no attempt', async () => {
    let attempts = 0;
    const events = await drain(
      driveStream(
        options(
          async function* () {
            attempts++;
            yield { type: 'done', stopReason: 'stop' };
          },
          {
            prepare: async () => {
              throw new Error('module missing');
            },
          },
        ),
      ),
    );
    assert.equal(attempts, 0);
    assert.deepEqual(events, [{ type: 'error', message: 'model call failed: module missing', retryable: false }]);
  });

  it('does not count a slow prepare against the timeout', async () => {
    const events = await drain(
      driveStream(
        options(
          async function* () {
            yield { type: 'done', stopReason: 'stop' };
          },
          { timeoutMs: 20, prepare: () => pause(80) },
        ),
      ),
    );
    assert.deepEqual(events, [{ type: 'done', stopReason: 'stop' }]);
  });

  it('never rejects, even when mapError throws', async () => {
    const events = await drain(
      driveStream(
        options(
          async function* (): AsyncGenerator<AttemptEvent> {
            throw new Error('first');
          },
          {
            mapError: () => {
              throw new Error('mapper bug');
            },
          },
        ),
      ),
    );
    assert.deepEqual(events, [{ type: 'error', message: 'model call failed: mapper bug', retryable: false }]);
  });
});

describe('driveStream memory', () => {
  it('keeps no event alive once the caller has moved past it, however long the attempt runs', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    setFlagsFromString('--no-expose-gc');
    const sent: WeakRef<object>[] = [];
    let finish: (() => void) | undefined;
    const attempt = async function* (): AsyncGenerator<AttemptEvent> {
      for (let i = 0; i < 50; i++) {
        const event: ProviderEvent = { type: 'text', delta: `chunk ${i} `.repeat(1_000) };
        sent.push(new WeakRef(event));
        yield event;
      }
      // The attempt is still open while the test looks: the reply is streaming.
      await new Promise<void>((resolve) => (finish = resolve));
      yield { type: 'done', stopReason: 'stop' };
    };
    const stream = driveStream(options(attempt, { timeoutMs: 30_000 }));
    for (let i = 0; i < 50; i++) assert.equal((await stream.next()).value?.type, 'text');
    const last = stream.next();
    // Let the attempt reach its pending read, then collect.
    await pause(20);
    gc();
    await pause(0);
    gc();
    const alive = sent.slice(0, 49).filter((ref) => ref.deref() !== undefined).length;
    finish?.();
    assert.equal((await last).value?.type, 'done');
    assert.equal(alive, 0, `${alive} of 49 delivered events still reachable while the attempt runs`);
  });
});
