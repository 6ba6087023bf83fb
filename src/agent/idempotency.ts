/**
 * Idempotency of turns (docs/protocol.md §6.1): a client's idempotency key becomes
 * the runId, one key space for every channel. A key seen before never starts
 * a second run or stores a second user message: the same request gets the
 * existing run back, a different request under that key is refused.
 */

import { createHash } from 'node:crypto';

import type { RunRegistry } from './run-registry.js';
import type { SubmitResult } from './types.js';
import { GatewayError } from '../protocol/errors.js';

/** Longest accepted idempotency key (chars); it becomes the runId on every event. */
export const MAX_IDEMPOTENCY_KEY_CHARS = 256;

/** What makes two submits "the same request" for idempotency. */
export function fingerprintTurn(sessionKey: string, text: string, images: readonly { mediaType: string; data: string }[] = []): string {
  const hash = createHash('sha256').update(sessionKey).update('\0').update(text);
  for (const image of images) hash.update('\0').update(image.mediaType).update('\0').update(image.data);
  return hash.digest('base64url');
}

/**
 * The answer to a key the registry already knows: the existing run's status,
 * or IDEMPOTENCY_CONFLICT when the request differs. Waits while the first
 * submit is still storing its message, so both answer alike (ack or refusal).
 */
export async function replayKnownKey(registry: RunRegistry, runId: string, sameRequest: boolean): Promise<SubmitResult> {
  if (!sameRequest) {
    throw new GatewayError('INVALID_REQUEST', 'idempotency key reused with different parameters', {
      details: { code: 'IDEMPOTENCY_CONFLICT' },
    });
  }
  const live = registry.live(runId);
  if (live?.phase === 'accepting') await live.accepted;
  const record = registry.record(runId);
  if (record === undefined) throw new GatewayError('UNAVAILABLE', 'run record expired; retry', { retryable: true });
  return { runId, status: record.status === 'running' ? 'in_flight' : record.status };
}
