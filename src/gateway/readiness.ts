/**
 * The gateway's life cycle as /ready reports it:
 * starting → ready → draining → closed. Ready needs start-up to be marked
 * done and every expected component to have reported in.
 */

export type GatewayPhase = 'starting' | 'ready' | 'draining' | 'closed';

/** Names reported in `failing` outside the components' own names. */
export const STARTUP_CHECK = 'startup';
export const DRAINING_CHECK = 'draining';
export const CLOSED_CHECK = 'closed';

export class Readiness {
  #phase: GatewayPhase = 'starting';
  #startupDone = false;
  readonly #pending = new Set<string>();
  readonly #startedAtMs: number;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#startedAtMs = now();
  }

  get phase(): GatewayPhase {
    return this.#phase;
  }

  get startedAtMs(): number {
    return this.#startedAtMs;
  }

  uptimeMs(): number {
    return this.#now() - this.#startedAtMs;
  }

  /**
   * Register a component that must finish starting before /ready turns 200.
   * Returns the function to call once it has.
   */
  expect(name: string): () => void {
    if (this.#phase !== 'starting') throw new Error(`cannot expect component "${name}" after start-up`);
    this.#pending.add(name);
    return () => {
      this.#pending.delete(name);
      this.#advance();
    };
  }

  /** All wiring is done; ready as soon as no component is pending. */
  markStarted(): void {
    this.#startupDone = true;
    this.#advance();
  }

  /** /ready turns 503 at once and stays so. */
  beginDrain(): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'draining';
  }

  markClosed(): void {
    this.#phase = 'closed';
  }

  /** Names of the checks that keep the gateway from being ready (empty when ready). */
  failing(): string[] {
    switch (this.#phase) {
      case 'ready':
        return [];
      case 'draining':
        return [DRAINING_CHECK];
      case 'closed':
        return [CLOSED_CHECK];
      case 'starting':
        return this.#startupDone ? [...this.#pending] : [STARTUP_CHECK, ...this.#pending];
    }
  }

  /** True once start-up finished, even while draining (for /startupz). */
  get started(): boolean {
    return this.#phase !== 'starting';
  }

  #advance(): void {
    if (this.#phase === 'starting' && this.#startupDone && this.#pending.size === 0) this.#phase = 'ready';
  }
}
