/**
 * One task chain per key: a task runs after every earlier task of the same
 * key, tasks of different keys run concurrently. The store runs all changes
 * of one session through it, so records never interleave and a rewrite never
 * races an append.
 */

export class KeyedQueue {
  /** Tail of each key's chain; never rejects. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Run `task` after every earlier task of `key`; resolves or rejects with it. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, settled);
    void settled.then(() => {
      if (this.#tails.get(key) === settled) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves once no task of any key is queued or running. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }
}
