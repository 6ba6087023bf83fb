import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compare a presented secret with the expected one in constant time.
 * Both sides are hashed first so that neither the length nor the content
 * leaks through timing. An empty expected secret never matches.
 */
export function secretsEqual(presented: string | undefined | null, expected: string): boolean {
  if (typeof presented !== 'string' || expected.length === 0) return false;
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The gateway's effective shared secret, resolved per connection attempt. */
export interface AuthSecret {
  mode: 'token' | 'password';
  secret: string;
}

/** Returns the secret in force right now, or undefined when none is configured (fail closed). */
export type AuthSecretResolver = () => AuthSecret | undefined;
