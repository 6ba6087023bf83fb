/**
 * One lane per session: writes to a session's record (accepting a turn,
 * inject, patch, reset, delete) run one after another in the order they
 * arrived, so a send that arrives while a delete is stopping the session's
 * runs waits for the delete instead of writing into the session being removed.
 */

export class SessionLanes {
  /** Tail of each busy lane; a lane is dropped when its last task ends. */
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Run `task` once every earlier task of `sessionKey` has settled. */
  run<T>(sessionKey: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(sessionKey);
    const result = previous === undefined ? task() : previous.then(task, task);
    const tail = result.then(noop, noop);
    this.#tails.set(sessionKey, tail);
    void tail.then(() => {
      if (this.#tails.get(sessionKey) === tail) this.#tails.delete(sessionKey);
    });
    return result;
  }

  /** Sessions with a task running or waiting (leak checks). */
  get busy(): number {
    return this.#tails.size;
  }
}

function noop(): void {}
