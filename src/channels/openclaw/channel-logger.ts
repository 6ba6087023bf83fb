/**
 * The logging surface the OpenClaw channel needs; main.ts adapts the
 * process logger onto it. Fields must never carry secrets.
 */
export interface ChannelLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: ChannelLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/**
 * Logs the 1st, 2nd, 4th, 8th … occurrence of a kind of event, so that a
 * flood produces a logarithmic number of lines (docs/protocol.md §8.3).
 */
export class SampledLog {
  readonly #counts = new Map<string, number>();
  readonly #logger: ChannelLogger;

  constructor(logger: ChannelLogger) {
    this.#logger = logger;
  }

  warn(kind: string, fields: Record<string, unknown> = {}): void {
    const count = (this.#counts.get(kind) ?? 0) + 1;
    // The map holds one entry per kind; kinds are a small fixed set chosen by the code.
    this.#counts.set(kind, count);
    if ((count & (count - 1)) === 0) this.#logger.warn(kind, { ...fields, occurrences: count });
  }
}
