/**
 * Durable file primitives. A whole-file write goes to a temp file in the same
 * directory, is fsync'd, renamed over the target, and the directory is
 * fsync'd, so after a crash the target holds either the old or the new bytes.
 */

import { constants, promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { isErrnoException, syncDirectory, toVersion, type FileVersion } from '../util/atomic-file.js';
import { partsBytes } from '../util/json-parts.js';

export { PRIVATE_FILE_MODE, TEMP_FILE_SUFFIX, isErrnoException, syncDirectory, writeFileAtomic, type FileVersion } from '../util/atomic-file.js';

/** The file is not the one last written: another process truncated, replaced or changed it. Nothing was written. */
export class FileChangedError extends Error {
  readonly expected: FileVersion;
  readonly found: FileVersion;
  constructor(path: string, expected: FileVersion, found: FileVersion) {
    super(`${path} changed behind the store (size ${expected.size} → ${found.size}, inode ${expected.ino} → ${found.ino})`);
    this.name = 'FileChangedError';
    this.expected = expected;
    this.found = found;
  }
}

/**
 * Append `data` to an existing file and fdatasync it before resolving.
 * Never creates the file, so a lost file cannot come back without its header.
 * With `expected`, first checks that the file still has that stamp and
 * throws FileChangedError, writing nothing, when it does not.
 */
export async function appendFileDurably(path: string, data: string | Iterable<string>, expected?: FileVersion): Promise<FileVersion> {
  const handle = await fs.open(path, constants.O_WRONLY | constants.O_APPEND);
  try {
    if (expected !== undefined) {
      const found = toVersion(await handle.stat());
      if (found.size !== expected.size || found.ino !== expected.ino || found.mtimeMs !== expected.mtimeMs) {
        throw new FileChangedError(path, expected, found);
      }
    }
    await writeParts(handle, typeof data === 'string' ? [data] : data);
    await handle.datasync();
    return toVersion(await handle.stat());
  } finally {
    await handle.close();
  }
}

/** Bytes gathered before one write when appending parts: a huge record costs this much buffer, not its size. */
export const WRITE_BUFFER_BYTES = 1024 * 1024;

/**
 * Write the parts in order at the file's position (O_APPEND: its end), gathered into writes of about
 * WRITE_BUFFER_BYTES. Parts that are not an array may be made as they are read (lazyJsonPartsOf): they are
 * read once, into a buffer of that size.
 */
async function writeParts(handle: fs.FileHandle, parts: Iterable<string>): Promise<void> {
  const bufferBytes = Array.isArray(parts) ? Math.min(WRITE_BUFFER_BYTES, partsBytes(parts as readonly string[])) : WRITE_BUFFER_BYTES;
  let buffer: Buffer | undefined;
  let used = 0;
  const flush = async (): Promise<void> => {
    if (buffer !== undefined && used > 0) await writeAll(handle, buffer.subarray(0, used));
    used = 0;
  };
  for (const part of parts) {
    const bytes = Buffer.byteLength(part, 'utf8');
    if (bytes > WRITE_BUFFER_BYTES) {
      await flush();
      await writeAll(handle, Buffer.from(part, 'utf8'));
      continue;
    }
    if (used + bytes > WRITE_BUFFER_BYTES) await flush();
    buffer ??= Buffer.allocUnsafe(Math.max(bytes, bufferBytes));
    used += buffer.write(part, used, 'utf8');
  }
  await flush();
}

async function writeAll(handle: fs.FileHandle, bytes: Buffer): Promise<void> {
  for (let written = 0; written < bytes.length; ) {
    written += (await handle.write(bytes, written, bytes.length - written)).bytesWritten;
  }
}

/** Cut a file to `length` bytes and fdatasync it. */
export async function truncateFileDurably(path: string, length: number): Promise<FileVersion> {
  const handle = await fs.open(path, 'r+');
  try {
    await handle.truncate(length);
    await handle.datasync();
    return toVersion(await handle.stat());
  } finally {
    await handle.close();
  }
}

/** Remove a file and fsync its directory. False when it did not exist. */
export async function removeFileDurably(path: string): Promise<boolean> {
  try {
    await fs.unlink(path);
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return false;
    throw error;
  }
  await syncDirectory(dirname(path));
  return true;
}

/** Rename within one directory and fsync it. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
  await syncDirectory(dirname(to));
}
