/**
 * logs.tail (docs/protocol.md §3.1): the gateway's recent log lines from the
 * in-memory ring, with OpenClaw's cursor, limit and maxBytes. Lines are the
 * JSON records the logger wrote, secrets already redacted.
 */

import * as v from 'valibot';
import type { LogTail, LogTailOptions } from '../../../util/log-ring.js';
import type { MethodTable } from '../method-types.js';

/** Lines returned when the client gives no limit (OpenClaw's default). */
export const DEFAULT_TAIL_LINES = 500;
export const MAX_TAIL_LINES = 5_000;
/** Bytes returned when the client gives no maxBytes (OpenClaw's default). */
export const DEFAULT_TAIL_BYTES = 250_000;
export const MAX_TAIL_BYTES = 1_000_000;

export interface LogsMethodDeps {
  logs: { tail(options: LogTailOptions): LogTail };
}

const count = (what: string, max: number) =>
  v.pipe(v.number(`${what}: expected an integer`), v.integer(`${what}: expected an integer`), v.minValue(1, `${what}: at least 1`), v.maxValue(max, `${what}: at most ${max}`));

const TailParams = v.object({
  cursor: v.optional(v.pipe(v.number('cursor: expected the cursor of an earlier answer'), v.integer('cursor: expected an integer'), v.minValue(0, 'cursor: at least 0'))),
  limit: v.optional(count('limit', MAX_TAIL_LINES)),
  maxBytes: v.optional(count('maxBytes', MAX_TAIL_BYTES)),
});

/** Build logs.tail. */
export function createLogsMethods(deps: LogsMethodDeps): MethodTable {
  return {
    'logs.tail': {
      params: TailParams,
      scope: 'operator.read',
      handler(params: v.InferOutput<typeof TailParams>) {
        const tail = deps.logs.tail({ cursor: params.cursor, limit: params.limit ?? DEFAULT_TAIL_LINES, maxBytes: params.maxBytes ?? DEFAULT_TAIL_BYTES });
        // No file: Pincer logs to stderr and keeps the recent lines in memory.
        return { file: null, ...tail };
      },
    },
  };
}
