/**
 * Whole-file replacement that survives a crash: the data goes to a temp file
 * in the same directory, is fsync'd, renamed over the target, and the
 * directory is fsync'd, so the target holds either the old or the new bytes.
 * Shared by the session store, the cron store, the file tools and the config
 * writer.
 */

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Suffix of in-flight temp files; leftovers from a crash are safe to delete. */
export const TEMP_FILE_SUFFIX = '.tmp';
/** Mode of every file written here: owner read/write only. */
export const PRIVATE_FILE_MODE = 0o600;

/** Size, mtime and inode of a file as written, to notice a later change behind the writer. */
export interface FileVersion {
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * Replace `path` with `data` atomically and durably. The rename swaps the
 * directory entry, so a hard link or symbolic link at `path` is replaced,
 * never written through. `mode` applies to the new file (default 0600).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = PRIVATE_FILE_MODE): Promise<FileVersion> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_FILE_SUFFIX}`);
  let version: FileVersion;
  try {
    const handle = await fs.open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
      version = toVersion(await handle.stat());
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
  return version;
}

/** fsync a directory so renames and unlinks in it survive a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; NTFS journals renames itself.
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** True for Node's system errors that carry an errno `code`. */
export function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

/** The stamp of a stat result. */
export function toVersion(stat: { size: number; mtimeMs: number; ino: number }): FileVersion {
  return { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino };
}
