/**
 * Writes index.json a short while after a change, so a burst of appends
 * costs one write; writes are serialised, so a later snapshot always lands
 * last. A failed write is retried on the next change or flush.
 */

import { writeSessionIndex, type SessionIndexEntry } from './session-index.js';
import type { SessionStoreLogger } from './session-file-loader.js';

export class IndexWriter {
  readonly #path: string;
  readonly #snapshot: () => [string, SessionIndexEntry][];
  readonly #logger: SessionStoreLogger;
  readonly #delayMs: number;
  #dirty = false;
  #scheduling = false;
  #timer: NodeJS.Timeout | undefined;
  #writes: Promise<void> = Promise.resolve();

  /** `snapshot` lists every entry as [file name, entry] at the moment of a write. */
  constructor(path: string, snapshot: () => [string, SessionIndexEntry][], logger: SessionStoreLogger, delayMs: number) {
    this.#path = path;
    this.#snapshot = snapshot;
    this.#logger = logger;
    this.#delayMs = delayMs;
  }

  /** Start writing changes on a timer (before this, changes only mark the index dirty). */
  start(): void {
    this.#scheduling = true;
    if (this.#dirty) this.changed();
  }

  /** Something the index holds changed: write it within the delay. */
  changed(): void {
    this.#dirty = true;
    if (!this.#scheduling || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#delayMs);
    this.#timer.unref();
  }

  /** Write now if anything changed. Never rejects. */
  flush(): Promise<void> {
    this.#writes = this.#writes.then(async () => {
      if (!this.#dirty) return;
      this.#dirty = false;
      try {
        await writeSessionIndex(this.#path, this.#snapshot());
      } catch (error) {
        this.#dirty = true;
        this.#logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'could not write the session index');
      }
    });
    return this.#writes;
  }

  /** Stop the timer and write what is pending. */
  async stop(): Promise<void> {
    this.#scheduling = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
