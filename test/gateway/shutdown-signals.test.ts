import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { handleShutdownSignals } from '../../src/gateway/shutdown-signals.js';
import { createSilentLogger } from '../../src/util/logger.js';

function setup(drain: (reason: string) => Promise<void>) {
  const target = new EventEmitter();
  const exits: number[] = [];
  const reasons: string[] = [];
  const uninstall = handleShutdownSignals({
    drain: (reason) => {
      reasons.push(reason);
      return drain(reason);
    },
    drainTimeoutMs: 1_000,
    logger: createSilentLogger(),
    exit: (code) => exits.push(code),
    target,
  });
  return { target, exits, reasons, uninstall };
}

const tick = (ms = 10): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('handleShutdownSignals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`drains on ${signal} and exits 0 when the drain ends`, async () => {
      let finish: () => void = () => undefined;
      const { target, exits, reasons, uninstall } = setup(() => new Promise<void>((resolve) => (finish = resolve)));
      target.emit(signal);
      await tick();
      assert.deepEqual(reasons, [signal]);
      assert.deepEqual(exits, [], 'no exit before the drain ends');
      finish();
      await tick();
      assert.deepEqual(exits, [0]);
      uninstall();
    });
  }

  it('exits at once on a second signal', async () => {
    const { target, exits, reasons, uninstall } = setup(() => new Promise<void>(() => undefined));
    target.emit('SIGTERM');
    target.emit('SIGINT');
    assert.deepEqual(reasons, ['SIGTERM'], 'one drain only');
    assert.deepEqual(exits, [130]);
    uninstall();
  });

  it('exits 1 when the drain fails', async () => {
    const { target, exits, uninstall } = setup(() => Promise.reject(new Error('x')));
    target.emit('SIGTERM');
    await tick();
    assert.deepEqual(exits, [1]);
    uninstall();
  });

  it('removes its listeners', () => {
    const { target, uninstall } = setup(() => Promise.resolve());
    assert.equal(target.listenerCount('SIGTERM'), 1);
    uninstall();
    assert.equal(target.listenerCount('SIGTERM'), 0);
    assert.equal(target.listenerCount('SIGINT'), 0);
  });
});
