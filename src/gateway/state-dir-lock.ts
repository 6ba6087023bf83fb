/**
 * One gateway per state directory: `<state-dir>/gateway.lock` holds the PID of
 * the gateway using it. Two gateways sharing session files would corrupt them,
 * so a second start fails naming the first. The file is created with O_EXCL;
 * a lock whose process is gone (a crash, a SIGKILL, a container restart that
 * reuses our own PID) is stale and taken over.
 */

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE_NAME = 'gateway.lock';
/** A few rounds cover a racing start removing a stale lock at the same moment. */
const MAX_ATTEMPTS = 5;

/** Thrown when another live gateway holds the state directory. The CLI exits 1 with its message. */
export class StateDirLockedError extends Error {
  readonly exitCode = 1;
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`another Pincer gateway (PID ${pid}) is already using this state directory (lock file ${path}); stop it first or start with another --state-dir`);
    this.name = 'StateDirLockedError';
  }
}

export interface StateDirLock {
  readonly path: string;
  /** Remove the lock file if it is still ours. Idempotent. */
  release(): void;
}

export interface AcquireLockOptions {
  /** Default process.pid. */
  pid?: number;
  /** Whether a PID names a running process. Default: signal 0. */
  isAlive?: (pid: number) => boolean;
}

/** Take the state directory's lock or throw StateDirLockedError. The directory must exist. */
export function acquireStateDirLock(stateDir: string, options: AcquireLockOptions = {}): StateDirLock {
  const path = join(stateDir, LOCK_FILE_NAME);
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? isProcessAlive;
  const content = `${JSON.stringify({ pid, startedAt: new Date().toISOString() })}\n`;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      const holder = readHolderPid(path);
      if (holder !== undefined && holder !== pid && isAlive(holder)) throw new StateDirLockedError(path, holder);
      removeIfPresent(path);
      continue;
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      process.off('exit', release);
      if (readHolderPid(path) === pid) removeIfPresent(path);
    };
    // process.exit() skips the drain; removing the file here spares the next start a stale-lock check.
    process.on('exit', release);
    return { path, release };
  }
  throw new Error(`cannot take the lock file ${path}: other starts keep replacing it`);
}

/** The PID recorded in a lock file, or undefined when it is missing or unreadable (a crash mid-write). */
export function readHolderPid(path: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'pid' in parsed && Number.isSafeInteger(parsed.pid) && Number(parsed.pid) > 0) {
      return Number(parsed.pid);
    }
  } catch {
    // Missing, empty or half-written: nobody can be holding it.
  }
  return undefined;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user, which still holds the directory.
    return errorCode(error) === 'EPERM';
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}
