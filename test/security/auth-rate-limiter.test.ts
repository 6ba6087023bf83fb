import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createAuthRateLimiter, DEFAULT_AUTH_MAX_ENTRIES } from '../../src/security/auth-rate-limiter.js';
import { authLimiterKey, normaliseIp } from '../../src/security/client-address.js';

const T0 = 1_000_000;

describe('auth rate limiter bounds', () => {
  it('never holds more than 10,000 keys under 100,000 distinct ones', () => {
    const limiter = createAuthRateLimiter();
    let peak = 0;
    for (let i = 0; i < 100_000; i++) {
      limiter.recordFailure(`ip:key-${i}`, T0 + i);
      peak = Math.max(peak, limiter.size);
    }
    assert.equal(peak, DEFAULT_AUTH_MAX_ENTRIES);
  });

  it('evicts keys that are not locked out before any lockout', () => {
    const limiter = createAuthRateLimiter({ maxEntries: 100 });
    for (let i = 0; i < 10; i++) limiter.recordFailure('ip:attacker', T0);
    assert.equal(limiter.check('ip:attacker', T0).allowed, false);
    for (let i = 0; i < 10_000; i++) limiter.recordFailure(`ip:spray-${i}`, T0 + 1);
    assert.ok(limiter.size <= 100);
    assert.equal(limiter.check('ip:attacker', T0 + 2).allowed, false);
  });

  it('holds only lockouts up to the cap when every key is locked out', () => {
    const limiter = createAuthRateLimiter({ maxEntries: 50, maxFailures: 1 });
    for (let i = 0; i < 500; i++) limiter.recordFailure(`ip:k-${i}`, T0);
    assert.ok(limiter.size <= 50);
    assert.equal(limiter.check('ip:k-499', T0).allowed, false, 'the newest lockout is kept');
  });

  it('keeps any sequence of failures and successes within the cap (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.boolean()), { maxLength: 2_000 }), (ops) => {
        const limiter = createAuthRateLimiter({ maxEntries: 64, maxFailures: 3 });
        let now = T0;
        for (const [key, success] of ops) {
          now += 7;
          if (success) limiter.recordSuccess(`ip:${key}`);
          else limiter.recordFailure(`ip:${key}`, now);
          if (limiter.size > 64) return false;
        }
        return true;
      }),
      { numRuns: 50 },
    );
  });
});

describe('limiter keys', () => {
  it('keys by IP, and by Origin only for loopback clients that send one', () => {
    assert.equal(authLimiterKey('203.0.113.5', 'https://evil.example'), 'ip:203.0.113.5');
    assert.equal(authLimiterKey('127.0.0.1', undefined), 'ip:127.0.0.1');
    assert.equal(authLimiterKey('::1', 'http://localhost:1'), 'browser-origin:http://localhost:1');
    assert.equal(authLimiterKey('127.0.0.1', ''), 'ip:127.0.0.1');
  });

  it('gives an IPv4 client of a dual-stack listener one identity', () => {
    assert.equal(normaliseIp('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(normaliseIp('::FFFF:10.0.0.1'), '10.0.0.1');
    assert.equal(normaliseIp('::1'), '::1');
    assert.equal(normaliseIp(undefined), 'unknown');
  });
});
