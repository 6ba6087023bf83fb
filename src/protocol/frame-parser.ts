/**
 * Parses one inbound text frame into a request (docs/protocol.md §1). The result
 * says whether the frame can be answered: a readable `id` allows an error
 * `res`; without one the caller closes the socket (§8).
 */

import * as v from 'valibot';
import type { RequestFrame } from './frames.js';
import { formatFirstIssue } from './issue-message.js';

/** Pincer rule: longer ids make the frame unanswerable. */
export const MAX_REQUEST_ID_CHARS = 256;
/** Method names are short dotted words; anything longer is not a method. */
export const MAX_METHOD_NAME_CHARS = 128;

export type ParsedFrame =
  | { kind: 'request'; frame: RequestFrame }
  /** Answerable with INVALID_REQUEST: the id is readable, the rest is not. */
  | { kind: 'invalid'; id: string; message: string }
  /** Not JSON, not an object, or no usable id: close the socket. */
  | { kind: 'unreadable'; reason: 'json' | 'not-object' | 'id' };

const IdSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_REQUEST_ID_CHARS));
const IdCarrierSchema = v.object({ id: IdSchema });

const ParamsSchema = v.custom<Record<string, unknown>>(
  (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
  'must be object',
);

const RequestSchema = v.object({
  type: v.literal('req'),
  id: IdSchema,
  method: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_METHOD_NAME_CHARS)),
  // `null` is read as absent, like a missing key.
  params: v.optional(v.nullable(ParamsSchema)),
});

/** Parse the text of one WebSocket message. Never throws. */
export function parseFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'unreadable', reason: 'json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'unreadable', reason: 'not-object' };
  }
  const carrier = v.safeParse(IdCarrierSchema, value);
  if (!carrier.success) return { kind: 'unreadable', reason: 'id' };
  const parsed = v.safeParse(RequestSchema, value);
  if (!parsed.success) {
    return { kind: 'invalid', id: carrier.output.id, message: `invalid request frame: ${formatFirstIssue(parsed.issues)}` };
  }
  const { id, method, params } = parsed.output;
  return { kind: 'request', frame: { type: 'req', id, method, params: params ?? {} } };
}
