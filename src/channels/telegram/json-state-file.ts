/**
 * A small JSON state file owned by one writer: read once at start, then
 * every change replaces it atomically (0600), one write at a time, so a
 * crash leaves either the old or the new state, never half of one.
 */

import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../sessions/atomic-write.js';

export interface JsonStateFile<T> {
  /** The state read at open (or `initial` when the file did not exist). */
  read(): Promise<T>;
  /** Write `state`; resolves once it is on disk. Writes run in call order. */
  write(state: T): Promise<void>;
}

/** Open `path`; a file that does not parse is an error naming it (never silently reset). */
export function openJsonStateFile<T>(path: string, initial: () => T): JsonStateFile<T> {
  let chain: Promise<void> = Promise.resolve();
  return {
    async read() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return initial();
        throw error;
      }
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw new Error(`${path} is not valid JSON (${error instanceof Error ? error.message : String(error)}); fix or remove it`, { cause: error });
      }
    },
    write(state) {
      const text = `${JSON.stringify(state)}\n`;
      const next = chain.then(async () => {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        await writeFileAtomic(path, text);
      });
      chain = next.catch(() => undefined);
      return next;
    },
  };
}
