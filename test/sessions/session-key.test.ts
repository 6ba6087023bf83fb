import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { GatewayError } from '../../src/protocol/errors.js';
import {
  canonicalizeSessionKey,
  isCanonicalSessionKey,
  parseSessionKey,
  sessionFileName,
} from '../../src/sessions/session-key.js';

const OPTIONS = { agentIds: ['main', 'ops'] } as const;
const UUID = '46ddeff3-7c1e-4b8a-9f0e-2f4c1d2b3a4e';

function rejects(raw: string, message: string | RegExp, options: Parameters<typeof canonicalizeSessionKey>[1] = OPTIONS) {
  assert.throws(
    () => canonicalizeSessionKey(raw, options),
    (error: unknown) => {
      assert.ok(error instanceof GatewayError, 'a GatewayError');
      assert.equal(error.code, 'INVALID_REQUEST');
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    },
  );
}

describe('canonicalizeSessionKey', () => {
  it('maps short names onto the default agent', () => {
    assert.equal(canonicalizeSessionKey('main', OPTIONS), 'agent:main:main');
    assert.equal(canonicalizeSessionKey('peer-second', OPTIONS), 'agent:main:peer-second');
    assert.equal(canonicalizeSessionKey(UUID, OPTIONS), `agent:main:${UUID}`);
    assert.equal(canonicalizeSessionKey(`openai:${UUID}`, OPTIONS), `agent:main:openai:${UUID}`);
  });

  it('keeps agent: keys and lowercases everything', () => {
    assert.equal(canonicalizeSessionKey('agent:main:main', OPTIONS), 'agent:main:main');
    assert.equal(canonicalizeSessionKey('Agent:OPS:Peer.Second', OPTIONS), 'agent:ops:peer.second');
    assert.equal(canonicalizeSessionKey('MAIN', OPTIONS), 'agent:main:main');
    assert.equal(canonicalizeSessionKey(`agent:main:openresponses:${UUID}`, OPTIONS), `agent:main:openresponses:${UUID}`);
  });

  it('uses the configured default agent', () => {
    assert.equal(canonicalizeSessionKey('x', { agentIds: ['ops'], defaultAgentId: 'Ops' }), 'agent:ops:x');
    rejects('x', 'unknown agent: main', { agentIds: ['ops'] });
  });

  it('rejects an unknown agent', () => {
    rejects('agent:nobody:main', 'unknown agent: nobody');
  });

  it('rejects traversal, separators, NUL, control characters and Unicode', () => {
    rejects('..', 'invalid session key: segment ".." is not allowed');
    rejects('.', 'invalid session key: segment "." is not allowed');
    rejects('agent:main:..', 'invalid session key: segment ".." is not allowed');
    rejects('agent:..:x', 'invalid session key: agent id ".." is not allowed');
    rejects('../etc/passwd', 'invalid session key: contains a path separator');
    rejects('a\\b', 'invalid session key: contains a path separator');
    rejects('a\0b', 'invalid session key: contains a NUL character');
    rejects('a\nb', 'invalid session key: contains a control character');
    rejects('a\x7fb', 'invalid session key: contains a control character');
    rejects('caf\u00e9', 'invalid session key: contains a non-ASCII character');
    // The Kelvin sign lowercases to an ASCII "k"; it must not alias "key".
    rejects('\u212Aey', 'invalid session key: contains a non-ASCII character');
    rejects('a b', /^invalid session key: contains " "/);
  });

  it('rejects empty keys and empty segments', () => {
    rejects('', 'invalid session key: must not be empty');
    rejects('a::b', 'invalid session key: empty segment');
    rejects('a:', 'invalid session key: empty segment');
    rejects(':a', 'invalid session key: empty segment');
    rejects('agent:main:', 'invalid session key: empty segment');
    rejects('agent::x', 'invalid session key: empty agent id');
    rejects('agent:main', 'invalid session key: expected agent:<agentId>:<name>');
  });

  it('enforces the length limits', () => {
    const segment128 = 'a'.repeat(128);
    assert.equal(canonicalizeSessionKey(segment128, OPTIONS), `agent:main:${segment128}`);
    rejects('a'.repeat(129), 'invalid session key: segment longer than 128 characters');
    const long = `agent:main:${Array.from({ length: 4 }, () => 'b'.repeat(124)).join(':')}`;
    assert.equal(long.length, 11 + 4 * 124 + 3);
    assert.equal(canonicalizeSessionKey(long, OPTIONS), long);
    const exactly512 = `agent:main:${'c'.repeat(128)}:${'c'.repeat(128)}:${'c'.repeat(128)}:${'c'.repeat(114)}`;
    assert.equal(exactly512.length, 512);
    assert.equal(canonicalizeSessionKey(exactly512, OPTIONS), exactly512);
    rejects(`${exactly512}x`, 'invalid session key: longer than 512 characters');
    // A short key that only exceeds the limit once the agent prefix is added.
    const short = exactly512.slice('agent:main:'.length) + 'x'.repeat(11);
    assert.ok(short.length <= 512);
    rejects(short, 'invalid session key: longer than 512 characters once canonical');
  });
});

describe('parseSessionKey', () => {
  it('splits a canonical key', () => {
    assert.deepEqual(parseSessionKey('agent:main:openai:abc'), { agentId: 'main', rest: 'openai:abc' });
  });

  it('rejects keys that are not canonical', () => {
    for (const key of ['main', 'agent:Main:x', 'agent:main:', 'agent:main:..', 'agent:main:a/b']) {
      assert.equal(isCanonicalSessionKey(key), false, key);
      assert.throws(() => parseSessionKey(key), GatewayError);
    }
  });
});

describe('sessionFileName', () => {
  it('is the sha256 hex of the canonical key plus .jsonl', () => {
    const expected = createHash('sha256').update('agent:main:main').digest('hex');
    assert.equal(sessionFileName('agent:main:main'), `${expected}.jsonl`);
    assert.notEqual(sessionFileName('agent:main:a'), sessionFileName('agent:main:b'));
  });
});

describe('session keys (property)', () => {
  // Pieces chosen to hit every rule: separators, traversal, case, Unicode
  // (including characters whose lowercase is ASCII), control bytes.
  const SAFE_PIECES = ['a', 'B', 'z', '0', '9', '.', '-', '_', ':', 'main', 'MAIN', 'Main', 'x'.repeat(40), 'Y'.repeat(70)];
  const RISKY_PIECES = [
    '..', '::', '/', '\\', '\0', '\n', '\t', ' ', 'agent:', 'AGENT:', 'agent:main:',
    '\u00e9', '\u00c9', '\u212A', '\u0130', '\u00df', '\u{1F600}', '\u00a0', '\u017F',
  ];
  const AGENTS = ['main', 'MAIN', 'Main', 'ops', 'OPS', 'other', '', '.', '..', 'ma/in', 'm\u00e4in', 'ma:in', '\u212Aops'];
  const piece = fc.oneof(
    { arbitrary: fc.constantFrom(...SAFE_PIECES), weight: 12 },
    { arbitrary: fc.constantFrom(...RISKY_PIECES), weight: 1 },
  );
  const name = fc.array(piece, { minLength: 0, maxLength: 8 }).map((parts) => parts.join(''));
  const raw = fc.oneof(
    name,
    fc.tuple(fc.constantFrom(...AGENTS), name).map(([agent, rest]) => `agent:${agent}:${rest}`),
    fc.tuple(fc.constantFrom(...AGENTS), name).map(([agent, rest]) => `Agent:${agent}:${rest}`),
  );

  it('never maps distinct canonical keys to one file, rejects bad input, and is idempotent', () => {
    const fileToKey = new Map<string, string>();
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(raw, (key) => {
        let canonical: string;
        try {
          canonical = canonicalizeSessionKey(key, OPTIONS);
        } catch (error) {
          rejected++;
          assert.ok(error instanceof GatewayError && error.code === 'INVALID_REQUEST');
          assert.match(error.message, /^(invalid session key: |unknown agent: )/);
          return;
        }
        accepted++;
        // Nothing dangerous survives, and the result is canonical.
        assert.ok(!/[/\\\0\x01-\x1f\x7f]/.test(key), 'separators and control characters are rejected');
        assert.ok(/^[\x20-\x7e]*$/.test(key), 'non-ASCII is rejected');
        assert.ok(isCanonicalSessionKey(canonical));
        assert.ok(canonical.length <= 512);
        for (const segment of canonical.split(':')) {
          assert.ok(segment !== '.' && segment !== '..' && segment.length > 0 && segment.length <= 128);
        }
        // No lossy sanitising: only lowercasing and the default prefix.
        const lower = key.toLowerCase();
        assert.ok(canonical === lower || canonical === `agent:main:${lower}`);
        // Idempotent, and parse/format round-trips.
        assert.equal(canonicalizeSessionKey(canonical, OPTIONS), canonical);
        const parsed = parseSessionKey(canonical);
        assert.equal(`agent:${parsed.agentId}:${parsed.rest}`, canonical);
        // Injective storage: one file name per canonical key.
        const file = sessionFileName(canonical);
        assert.match(file, /^[0-9a-f]{64}\.jsonl$/);
        const previous = fileToKey.get(file);
        assert.ok(previous === undefined || previous === canonical, `collision: ${previous} / ${canonical}`);
        fileToKey.set(file, canonical);
      }),
      { numRuns: 100_000, seed: 0x5e55, endOnFailure: true },
    );
    assert.equal(accepted + rejected, 100_000);
    // The property must not hold vacuously.
    assert.ok(accepted > 10_000, `accepted ${accepted}`);
    assert.ok(rejected > 10_000, `rejected ${rejected}`);
    assert.ok(fileToKey.size > 5_000, `distinct canonical keys ${fileToKey.size}`);
  });
});
