import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runNodeScript } from '../helpers/node-script.js';

const HEAP_POLICY = fileURLToPath(new URL('../../src/util/heap-policy.js', import.meta.url));

interface HeapPeaks {
  newSpaceMiB: number;
  oldSpaceMiB: number;
}

/**
 * A fresh process keeps 300,000 small objects alive and churns through
 * short-lived batches, as a gateway's frames and events do, then reports the
 * largest young and old generation V8 committed meanwhile.
 */
function churn(withPolicy: boolean): Promise<HeapPeaks> {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    if (${withPolicy}) (await import(${JSON.stringify(HEAP_POLICY)})).applyGatewayHeapPolicy();
    const size = (name) => getHeapSpaceStatistics().find((space) => space.space_name === name).space_size / 1048576;
    const live = [];
    for (let i = 0; i < 300000; i++) live.push({ i, name: 'live-' + i });
    let newSpaceMiB = 0;
    let oldSpaceMiB = 0;
    for (let round = 0; round < 200; round++) {
      const batch = [];
      for (let i = 0; i < 50000; i++) batch.push({ i, name: 'garbage-' + i });
      await new Promise((resolve) => setImmediate(resolve));
      newSpaceMiB = Math.max(newSpaceMiB, size('new_space'));
      oldSpaceMiB = Math.max(oldSpaceMiB, size('old_space'));
    }
    console.log(JSON.stringify({ newSpaceMiB, oldSpaceMiB, live: live.length }));
  `;
  return runNodeScript<HeapPeaks>(script);
}

describe('the gateway heap policy', () => {
  it('keeps the young generation at its initial size and the old one near what is live, where V8 alone grows both', async () => {
    const [defaults, gateway] = await Promise.all([churn(false), churn(true)]);
    // V8's defaults here: a 32 MiB young generation and an old one of several times the live set.
    assert.ok(defaults.newSpaceMiB >= 16, `without the policy the young generation grows: ${defaults.newSpaceMiB} MiB`);
    assert.ok(gateway.newSpaceMiB <= 4, `with it the young generation stays small: ${gateway.newSpaceMiB} MiB`);
    assert.ok(
      gateway.oldSpaceMiB < defaults.oldSpaceMiB * 0.75,
      `with it the old generation stays nearer the live set: ${gateway.oldSpaceMiB} vs ${defaults.oldSpaceMiB} MiB`,
    );
  });
});
