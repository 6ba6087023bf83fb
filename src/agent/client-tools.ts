/**
 * Tools the client runs itself (the OpenAI-compatible API's `tools`): which
 * handed-back calls a session still waits for, and the stored rows a
 * client's results become. The loop ends a run at such a call
 * (loop.ts `clientTools`); the next turn brings the results.
 */

import { randomUUID } from 'node:crypto';

import type { ClientToolResult } from './types.js';
import { detailError } from '../protocol/errors.js';
import type { ToolCallBlock } from '../messages/types.js';
import type { ToolSpec } from '../providers/types.js';
import type { StoredMessage } from '../sessions/types.js';

/**
 * The handed-back calls still unanswered: those of the newest assistant row
 * that awaits client tools, minus the results stored after it. Anything the
 * user or the assistant said after that row means nothing is pending.
 */
export function pendingClientToolCalls(history: readonly StoredMessage[]): ToolCallBlock[] {
  const answered = new Set<string>();
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i] as StoredMessage;
    if (message.role === 'toolResult') {
      if (message.toolCallId !== undefined) answered.add(message.toolCallId);
      continue;
    }
    if (message.role !== 'assistant' || message.awaitsClientTools !== true) return [];
    return message.content.filter((block): block is ToolCallBlock => block.type === 'toolCall' && !answered.has(block.id));
  }
  return [];
}

/**
 * The rows to store for a client's results, in the order given. Each must
 * answer a pending call (by id, or by name for legacy function results);
 * otherwise the turn is refused with UNKNOWN_TOOL_CALL and nothing is stored.
 */
export function clientToolResultRows(
  results: readonly ClientToolResult[],
  pending: readonly ToolCallBlock[],
  runId: string,
  timestamp: number,
): StoredMessage[] {
  const open = [...pending];
  return results.map((result, index) => {
    const at = open.findIndex((call) => (result.callId !== undefined ? call.id === result.callId : call.name === result.name));
    if (at < 0) {
      const which = result.callId !== undefined ? `tool call '${result.callId}'` : `a call of '${result.name ?? ''}'`;
      const waiting = pending.length === 0 ? 'this session awaits no tool results' : `awaiting: ${pending.map((call) => call.id).join(', ')}`;
      throw detailError('UNKNOWN_TOOL_CALL', `tool result ${index + 1} answers ${which}, which is not awaiting a result (${waiting})`);
    }
    const [call] = open.splice(at, 1) as [ToolCallBlock];
    return {
      id: randomUUID(),
      role: 'toolResult',
      content: [{ type: 'text', text: result.output }],
      timestamp,
      runId,
      toolCallId: call.id,
      toolName: call.name,
      isError: false,
    };
  });
}

/** A client tool may not shadow one of the gateway's own: the call would be ambiguous. */
export function checkClientToolNames(clientTools: readonly ToolSpec[], ownTools: readonly ToolSpec[]): void {
  const own = new Set(ownTools.map((tool) => tool.name));
  const seen = new Set<string>();
  for (const tool of clientTools) {
    if (own.has(tool.name)) {
      throw detailError('TOOL_NAME_CONFLICT', `the tool name '${tool.name}' is one of the gateway's own tools; rename the client tool`);
    }
    if (seen.has(tool.name)) throw detailError('TOOL_NAME_CONFLICT', `the tool name '${tool.name}' is given twice`);
    seen.add(tool.name);
  }
}
