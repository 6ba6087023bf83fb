/**
 * The shape of one built-in tool and the helpers every tool shares: argument
 * validation with a message the model can act on, and text results.
 */

import * as v from 'valibot';

import type { ToolCallContext, ToolOutcome } from '../tool-types.js';
import type { ToolSpec } from '../../providers/types.js';

/**
 * A tool the model may call. `execute` receives the parsed arguments object
 * (not yet validated: use parseArguments) and may throw; the loop turns a
 * thrown error into an error result naming the tool. It must stop promptly
 * when `signal` aborts.
 */
export interface AgentTool {
  readonly spec: ToolSpec;
  execute(args: Record<string, unknown>, signal: AbortSignal, context?: ToolCallContext): Promise<ToolOutcome>;
}

/** A failure the model caused (bad path, text not found, …), which it can correct in its next call. */
export class ToolInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolInputError';
  }
}

/** Validate tool arguments; throws ToolInputError naming the first bad field. */
export function parseArguments<S extends v.GenericSchema>(schema: S, args: Record<string, unknown>): v.InferOutput<S> {
  const result = v.safeParse(schema, args);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const field = v.getDotPath(issue);
  if (issue.type === 'strict_object' && issue.received === 'undefined' && field !== null) {
    throw new ToolInputError(`invalid arguments: missing required argument ${field}`);
  }
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    throw new ToolInputError(`invalid arguments: unknown argument ${field ?? '(none)'}`);
  }
  throw new ToolInputError(`invalid arguments: ${field === null ? '' : `${field}: `}${issue.message}`);
}

/** A successful text result. */
export function textOutcome(text: string): ToolOutcome {
  return { content: [{ type: 'text', text }] };
}

/** Strict object schema for arguments, so a misspelt argument is reported instead of ignored. */
export function argumentsSchema<const E extends v.ObjectEntries>(entries: E) {
  return v.strictObject(entries, 'expected an arguments object');
}
