/**
 * Readable wording for session-store failures. Clients see it, so it names the
 * condition (disk full, read-only) and leaves out file paths.
 */

import { detailError, type GatewayError } from '../protocol/errors.js';

/** Suggested client back-off after a storage failure (ms). */
export const STORAGE_RETRY_AFTER_MS = 5_000;

const STORAGE_CONDITIONS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the state directory is read-only',
  EACCES: 'no permission to write the state directory',
  EPERM: 'no permission to write the state directory',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'a disk I/O error occurred',
};

/** One short phrase for a storage error, without paths. */
export function describeStorageError(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string') return STORAGE_CONDITIONS[code] ?? `storage error (${code})`;
  return 'storage error';
}

/** The retryable UNAVAILABLE a submit rejects with when its message could not be stored. */
export function storageUnavailable(error: unknown): GatewayError {
  return detailError('STORAGE_UNAVAILABLE', `message not saved: ${describeStorageError(error)}; nothing was stored, retry later`, {
    retryAfterMs: STORAGE_RETRY_AFTER_MS,
    cause: error,
  });
}
