/**
 * The upgrade gate (protocol.md §8.2) against the real gateway: over 1,000
 * hostile Origin and Host headers get 403/421 and never a 101, every allowed
 * origin upgrades, and the refusals are logged by sampling.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rawUpgrade } from '../helpers/raw-upgrade.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { capturingLogger, runBounded } from './security-helpers.js';

const CONFIGURED_ORIGIN = 'https://chat.example.com';
const CONFIGURED_HOST = 'pincer.example';
/** Random origins on top of the hand-written look-alikes. */
const RANDOM_ORIGINS = 900;
const CONCURRENCY = 16;
const SEED = 20_260_501;

interface Attempt {
  headers: Record<string, string>;
  /** The refusal this attempt must get. */
  expect: 403 | 421;
}

function hostileAttempts(port: number): Attempt[] {
  const host = { host: `127.0.0.1:${port}` };
  const origins = [
    'null',
    '',
    `http://127.0.0.1:${port + 1}`,
    `http://localhost:${port - 1}`,
    `http://[::1]:${port + 1}`,
    `http://127.0.0.1`,
    `http://localhost`,
    `http://localhost.evil.example:${port}`,
    `http://127.0.0.1.nip.io:${port}`,
    `http://localhost:${port}.evil.example`,
    `http://LOCALHOST:${port}`,
    `http://LocalHost:${port}`,
    `HTTP://127.0.0.1:${port}`,
    `http://localhost.:${port}`,
    `http://127.0.0.1.:${port}`,
    `http://127.0.0.1:${port}/`,
    `http://127.0.0.1:${port}/path`,
    `ws://127.0.0.1:${port}`,
    `file://`,
    `http://0.0.0.0:${port}`,
    `http://127.0.0.2:${port}`,
    `http://evil.example`,
    `https://chat.example.com.evil.example`,
    `http://chat.example.com`,
    `https://CHAT.example.com`,
    `https://chat.example.com:443`,
    `https://chat.example.com.`,
    `http://localhost:${port}, http://localhost:${port}`,
  ].map((origin): Attempt => ({ headers: { ...host, origin }, expect: 403 }));

  const hosts = [
    'evil.example',
    `evil.example:${port}`,
    `localhost.evil.example:${port}`,
    `127.0.0.1.nip.io:${port}`,
    `localhost.:${port}`,
    `LOCALHOST.:${port}`,
    `${CONFIGURED_HOST}.evil.example`,
    `rebind.attacker.example:${port}`,
    `localhost:${port}:${port}`,
    `localhost:port`,
    '[::1',
    `[::1]x:${port}`,
  ].map((name): Attempt => ({ headers: { host: name }, expect: 421 }));

  const allowed = new Set(allowedOrigins(port));
  const random = fc
    .sample(fc.webUrl({ validSchemes: ['http', 'https'] }), { numRuns: RANDOM_ORIGINS * 2, seed: SEED })
    .map((url) => new URL(url).origin)
    .filter((origin) => !allowed.has(origin))
    .slice(0, RANDOM_ORIGINS)
    .map((origin): Attempt => ({ headers: { ...host, origin }, expect: 403 }));

  // A hostile Origin with a good Host, a good Origin with a hostile Host, and upper-case variants of random ones.
  const mixed = random.slice(0, 100).map((attempt): Attempt => ({ headers: { ...host, origin: attempt.headers.origin!.toUpperCase() }, expect: 403 }));
  const rebinding = [...allowed].map((origin): Attempt => ({ headers: { origin, host: `rebind.attacker.example:${port}` }, expect: 421 }));
  return [...origins, ...hosts, ...random, ...mixed, ...rebinding];
}

function allowedOrigins(port: number): string[] {
  const out = [CONFIGURED_ORIGIN];
  for (const scheme of ['http', 'https']) for (const name of ['127.0.0.1', 'localhost', '[::1]']) out.push(`${scheme}://${name}:${port}`);
  return out;
}

describe('upgrade gate', () => {
  let gateway: StartedGateway;
  const { logger, lines } = capturingLogger('warn');

  before(async () => {
    gateway = await startGateway({
      logger,
      overrides: { gateway: { allowedOrigins: [CONFIGURED_ORIGIN], allowedHosts: [CONFIGURED_HOST] } },
    });
  });
  after(() => gateway.close());

  it('refuses over 1,000 hostile Origin and Host headers before the 101, and logs them by sampling', async () => {
    const attempts = hostileAttempts(gateway.port);
    assert.ok(attempts.length >= 1_000, `${attempts.length} attempts`);
    const upgraded: string[] = [];
    const wrong: string[] = [];
    await runBounded(attempts.length, CONCURRENCY, async (i) => {
      const attempt = attempts[i]!;
      const result = await rawUpgrade(gateway.port, attempt.headers);
      if (result.status === 101) {
        upgraded.push(JSON.stringify(attempt.headers));
        result.socket?.destroy();
      } else if (result.status !== attempt.expect) {
        wrong.push(`${JSON.stringify(attempt.headers)} → ${result.status}`);
      }
    });
    assert.deepEqual(upgraded, [], '0 upgraded');
    assert.deepEqual(wrong, []);
    const refusalLines = lines.filter((line) => line.includes('"msg":"upgrade refused"'));
    assert.ok(refusalLines.length >= 1 && refusalLines.length <= Math.log2(attempts.length) + 1, `${refusalLines.length} log lines`);
  });

  it('upgrades 100 % of allowed origins and hosts, and clients without an Origin', async () => {
    const port = gateway.port;
    const good: Record<string, string>[] = [
      { host: `127.0.0.1:${port}` },
      { host: `localhost:${port}` },
      { host: `[::1]:${port}` },
      { host: `LOCALHOST:${port}` },
      { host: CONFIGURED_HOST },
      { host: `${CONFIGURED_HOST}:${port}` },
      ...allowedOrigins(port).map((origin) => ({ host: `localhost:${port}`, origin })),
    ];
    const rounds = 10;
    let upgrades = 0;
    for (let round = 0; round < rounds; round++) {
      for (const headers of good) {
        const result = await rawUpgrade(port, headers);
        assert.equal(result.status, 101, JSON.stringify(headers));
        upgrades++;
        result.socket?.destroy();
      }
    }
    assert.equal(upgrades, good.length * rounds);
  });
});

describe('upgrade gate with allowedOrigins ["*"]', () => {
  let gateway: StartedGateway;
  before(async () => {
    gateway = await startGateway({ overrides: { gateway: { allowedOrigins: ['*'] } } });
  });
  after(() => gateway.close());

  it('lets any origin through except null, and still checks Host', async () => {
    const host = `127.0.0.1:${gateway.port}`;
    for (const origin of ['https://anything.example', 'http://localhost.evil.example:1']) {
      const result = await rawUpgrade(gateway.port, { host, origin });
      assert.equal(result.status, 101, origin);
      result.socket?.destroy();
    }
    assert.equal((await rawUpgrade(gateway.port, { host, origin: 'null' })).status, 403);
    assert.equal((await rawUpgrade(gateway.port, { host: 'evil.example', origin: 'https://a.example' })).status, 421);
  });
});
