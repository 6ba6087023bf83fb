/** Parsing of streamed tool-call arguments, shared by every provider. */

import * as v from 'valibot';

const ArgumentsSchema = v.record(v.string(), v.unknown());

/**
 * The arguments object of a tool call from its accumulated JSON text, or null
 * when the text is not a JSON object (the loop then answers the model with an
 * error tool result). Empty text means a call without arguments.
 */
export function parseToolArguments(raw: string): Record<string, unknown> | null {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  // valibot's record() accepts arrays; JSON.parse yields no other non-plain objects.
  if (Array.isArray(parsed)) return null;
  const result = v.safeParse(ArgumentsSchema, parsed);
  return result.success ? result.output : null;
}
