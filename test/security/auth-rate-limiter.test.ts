import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createAuthRateLimiter, DEFAULT_AUTH_MAX_ENTRIES } from '../../src/security/auth-rate-limiter.js';
import { authLimiterKey, createTrustedProxies, normaliseIp, resolveClientIp } from '../../src/security/client-address.js';

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
  it('keys by client address, every loopback form one key, sub-keyed by an allowed Origin', () => {
    assert.equal(authLimiterKey('203.0.113.5', undefined), 'ip:203.0.113.5');
    assert.equal(authLimiterKey('203.0.113.5', 'https://chat.example'), 'ip:203.0.113.5|origin:https://chat.example');
    for (const loopback of ['127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '::ffff:127.0.0.9', '0:0:0:0:0:0:0:1', '::ffff:7f00:3']) {
      assert.equal(authLimiterKey(normaliseIp(loopback), undefined), 'loopback', loopback);
      assert.equal(authLimiterKey(normaliseIp(loopback), 'http://localhost:1'), 'loopback|origin:http://localhost:1', loopback);
    }
  });

  it('gives an IPv4 client of a dual-stack listener one identity', () => {
    assert.equal(normaliseIp('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(normaliseIp('::FFFF:10.0.0.1'), '10.0.0.1');
    assert.equal(normaliseIp('::ffff:a00:1'), '10.0.0.1');
    assert.equal(normaliseIp('::1'), '::1');
    assert.equal(normaliseIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(normaliseIp(undefined), 'unknown');
    assert.equal(normaliseIp('not-an-ip'), 'unknown');
  });

  it('believes X-Forwarded-For only from a trusted proxy, from the right', () => {
    const trusted = createTrustedProxies(['127.0.0.1', '10.0.0.0/8']);
    assert.equal(resolveClientIp('127.0.0.2', '203.0.113.9', trusted), '127.0.0.2');
    assert.equal(resolveClientIp('198.51.100.1', '203.0.113.9', trusted), '198.51.100.1');
    assert.equal(resolveClientIp('127.0.0.1', '203.0.113.9', trusted), '203.0.113.9');
    assert.equal(resolveClientIp('::ffff:127.0.0.1', 'spoofed-by-client, 203.0.113.9, 10.1.2.3', trusted), '203.0.113.9');
    assert.equal(resolveClientIp('127.0.0.1', '198.51.100.7, 203.0.113.9', trusted), '203.0.113.9');
    assert.equal(resolveClientIp('127.0.0.1', undefined, trusted), '127.0.0.1');
    assert.equal(resolveClientIp('127.0.0.1', 'garbage', trusted), '127.0.0.1');
    assert.equal(resolveClientIp('127.0.0.1', '203.0.113.9:4711', trusted), '203.0.113.9');
    assert.equal(resolveClientIp('127.0.0.1', '203.0.113.9', createTrustedProxies([])), '127.0.0.1');
  });
});
