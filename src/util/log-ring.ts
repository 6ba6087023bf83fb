/**
 * The last log lines, kept in memory for logs.tail: a ring bounded by line
 * count and by bytes, addressed by a cursor that counts every byte ever
 * pushed (like an offset in a log file that never rotates). Pushing stores
 * the already rendered line; nothing else happens until someone reads.
 */

/** Lines kept at most. */
export const LOG_RING_MAX_LINES = 2_000;
/** Bytes (UTF-16 code units, close enough for a bound) kept at most. */
export const LOG_RING_MAX_BYTES = 1024 * 1024;
/** A longer line is cut to this many characters. */
export const LOG_RING_MAX_LINE_CHARS = 16 * 1024;

/** One read of the ring (OpenClaw's logs.tail result, less `file`). */
export interface LogTail {
  /** Pass back as `cursor` to get only newer lines. */
  cursor: number;
  /** Bytes ever pushed; equals `cursor`. */
  size: number;
  lines: string[];
  /** Lines were left out: older than the ring holds, or beyond `limit` / `maxBytes`. */
  truncated: boolean;
  /** The cursor was ahead of the ring (a restarted gateway): reading started over. */
  reset: boolean;
}

export interface LogTailOptions {
  cursor?: number;
  /** Most lines returned (newest kept). */
  limit: number;
  /** Most bytes returned (newest kept). */
  maxBytes: number;
}

/** A bounded ring of log lines. */
export class LogRing {
  readonly #maxLines: number;
  readonly #maxBytes: number;
  #lines: string[] = [];
  /** Cursor position where each kept line starts. */
  #starts: number[] = [];
  #bytes = 0;
  #size = 0;

  constructor(maxLines = LOG_RING_MAX_LINES, maxBytes = LOG_RING_MAX_BYTES) {
    this.#maxLines = maxLines;
    this.#maxBytes = maxBytes;
  }

  /** Keep `line` (without its newline); drops the oldest lines beyond the bounds. */
  push(line: string): void {
    const kept = line.length > LOG_RING_MAX_LINE_CHARS ? `${line.slice(0, LOG_RING_MAX_LINE_CHARS)}…` : line;
    this.#lines.push(kept);
    this.#starts.push(this.#size);
    this.#size += kept.length + 1;
    this.#bytes += kept.length + 1;
    let drop = 0;
    while (this.#lines.length - drop > this.#maxLines || (this.#bytes > this.#maxBytes && this.#lines.length - drop > 1)) {
      this.#bytes -= this.#lines[drop]!.length + 1;
      drop++;
    }
    if (drop > 0) {
      this.#lines.splice(0, drop);
      this.#starts.splice(0, drop);
    }
  }

  /** Lines after `cursor` (all kept lines without one), newest last, within `limit` and `maxBytes`. */
  tail(options: LogTailOptions): LogTail {
    let reset = false;
    let cursor = options.cursor;
    if (cursor !== undefined && cursor > this.#size) {
      reset = true;
      cursor = undefined;
    }
    const oldest = this.#starts[0] ?? this.#size;
    let first = 0;
    let truncated = false;
    if (cursor !== undefined) {
      if (cursor < oldest) truncated = true;
      first = this.#starts.findIndex((start) => start >= cursor);
      if (first === -1) first = this.#lines.length;
    }
    let from = Math.max(first, this.#lines.length - options.limit);
    let bytes = 0;
    for (let i = this.#lines.length - 1; i >= from; i--) {
      bytes += this.#lines[i]!.length + 1;
      if (bytes > options.maxBytes) {
        from = i + 1;
        break;
      }
    }
    if (from > first && (cursor !== undefined || from > 0)) truncated = true;
    return { cursor: this.#size, size: this.#size, lines: this.#lines.slice(from), truncated, reset };
  }
}
