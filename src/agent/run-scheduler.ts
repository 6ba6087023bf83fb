/**
 * Decides when runs start: turns of one session run one at a time in the
 * order they were queued; different sessions run concurrently up to a limit,
 * taking free slots in the order their sessions became ready.
 */

export interface ScheduledRun {
  readonly sessionKey: string;
  /** Runs the turn; must not reject. */
  start(): Promise<void>;
}

interface Lane {
  tasks: ScheduledRun[];
  busy: boolean;
}

export class RunScheduler {
  readonly #maxConcurrent: number;
  readonly #lanes = new Map<string, Lane>();
  /** Session keys whose next turn waits for a slot; may hold stale keys, which pump() skips. */
  #ready: string[] = [];
  #running = 0;

  /** @param maxConcurrent sessions running at the same time (≥ 1). */
  constructor(maxConcurrent: number) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new RangeError(`agent.maxConcurrentRuns must be a positive integer, got ${maxConcurrent}`);
    }
    this.#maxConcurrent = maxConcurrent;
  }

  get running(): number {
    return this.#running;
  }

  enqueue(run: ScheduledRun): void {
    let lane = this.#lanes.get(run.sessionKey);
    if (lane === undefined) {
      lane = { tasks: [], busy: false };
      this.#lanes.set(run.sessionKey, lane);
    }
    lane.tasks.push(run);
    if (!lane.busy && lane.tasks.length === 1) this.#ready.push(run.sessionKey);
    this.#pump();
  }

  /** Take a run out of its queue before it starts. False when it already started or is unknown. */
  cancel(run: ScheduledRun): boolean {
    const lane = this.#lanes.get(run.sessionKey);
    const index = lane?.tasks.indexOf(run) ?? -1;
    if (lane === undefined || index < 0) return false;
    lane.tasks.splice(index, 1);
    if (!lane.busy && lane.tasks.length === 0) this.#lanes.delete(run.sessionKey);
    return true;
  }

  #pump(): void {
    while (this.#running < this.#maxConcurrent && this.#ready.length > 0) {
      const key = this.#ready.shift() as string;
      const lane = this.#lanes.get(key);
      if (lane === undefined || lane.busy || lane.tasks.length === 0) continue;
      const run = lane.tasks.shift() as ScheduledRun;
      lane.busy = true;
      this.#running++;
      const done = (): void => this.#release(key, lane);
      run.start().then(done, done);
    }
  }

  #release(key: string, lane: Lane): void {
    this.#running--;
    lane.busy = false;
    if (lane.tasks.length > 0) this.#ready.push(key);
    else if (this.#lanes.get(key) === lane) this.#lanes.delete(key);
    this.#pump();
  }
}
