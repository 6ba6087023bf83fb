import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { fingerprintTurn } from '../../src/agent/idempotency.js';
import { RunRegistry } from '../../src/agent/run-registry.js';
import type { RunRecord } from '../../src/agent/types.js';

const TTL_MS = 1_000;

function endedRun(registry: RunRegistry, runId: string, now: () => number): string {
  const fingerprint = fingerprintTurn('agent:main:main', 'hi');
  const record: RunRecord = { runId, sessionKey: 'agent:main:main', status: 'running', startedAt: now() };
  registry.add(record, fingerprint, Promise.resolve());
  record.status = 'ok';
  record.endedAt = now();
  registry.finish(runId);
  return fingerprint;
}

describe('RunRegistry', () => {
  it('answers for an ended run within its TTL', () => {
    let clock = 10_000;
    const now = (): number => clock;
    const registry = new RunRegistry({ now, ttlMs: TTL_MS });
    const fingerprint = endedRun(registry, 'run-1', now);
    clock += TTL_MS - 1;
    assert.equal(registry.fingerprint('run-1'), fingerprint);
    assert.equal(registry.record('run-1')?.status, 'ok');
  });

  it('forgets an expired run in fingerprint() as in record(), so its key is free again', () => {
    let clock = 10_000;
    const now = (): number => clock;
    const registry = new RunRegistry({ now, ttlMs: TTL_MS });
    endedRun(registry, 'run-1', now);
    clock += TTL_MS + 1;
    // The service checks the fingerprint first: a stale one would make it refuse the key
    // (conflict or "record expired") although record() no longer knows the run.
    assert.equal(registry.fingerprint('run-1'), undefined);
    assert.equal(registry.record('run-1'), undefined);
  });
});
