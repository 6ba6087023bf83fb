/**
 * How tools plug into the agent loop. The loop owns the protocol with the model
 * (which calls exist, bad arguments, limits); a ToolExecutor only runs one
 * well-formed call. Built-in tools are registered in main.ts and passed down.
 */

import type { ContentBlock } from '../messages/types.js';

/** One tool call the model asked for, with parsed arguments. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** What a tool returns; `isError` results are shown to the model as failures. */
export interface ToolOutcome {
  content: ContentBlock[];
  isError?: boolean;
}

/** The run a tool call belongs to (tools that act on "this chat", like cron's `current` target). */
export interface ToolCallContext {
  sessionKey: string;
  runId: string;
}

/**
 * Runs one tool call. It may throw: the loop turns the error message into an
 * error result the model sees. It must stop promptly when `signal` aborts.
 * Only names listed in the request's `tools` reach it.
 */
export type ToolExecutor = (call: ToolCall, signal: AbortSignal, context?: ToolCallContext) => Promise<ToolOutcome>;
