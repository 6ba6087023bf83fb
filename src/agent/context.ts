/**
 * Builds the model request of a run from stored history: the run's own user
 * message last, earlier turns in conversation order within a message and
 * character budget, tool calls paired with their results, and a system
 * prompt from config plus the workspace's AGENTS.md and SOUL.md.
 */

import { open } from 'node:fs/promises';
import { join } from 'node:path';

import type { ModelMessage, ModelRequest, ToolSpec } from '../providers/types.js';
import type { ContentBlock } from '../messages/types.js';
import type { StoredMessage } from '../sessions/types.js';

/** Bytes of AGENTS.md read into the system prompt. */
export const MAX_AGENTS_MD_BYTES = 32 * 1024;
/** Character budget of history sent to the model when none is configured. */
export const DEFAULT_MAX_CONTEXT_CHARS = 400_000;
/** Rough cost of an image in the character budget (chars): the base64 size would overstate it. */
const IMAGE_BUDGET_CHARS = 4_000;

export interface BuildRequestOptions {
  /** Stored history, oldest first; must contain `userMessageId`. */
  history: StoredMessage[];
  /** The user message this run answers; everything stored after it from later turns is left out. */
  userMessageId: string;
  systemPrompt?: string;
  /** Contents of the workspace AGENTS.md, if any. */
  workspaceInstructions?: string;
  /** Contents of the workspace SOUL.md (the agent's persona), if any. */
  workspacePersona?: string;
  extraSystemPrompt?: string;
  tools?: ToolSpec[];
  thinking?: ModelRequest['thinking'];
  /** Messages sent at most, newest kept. */
  maxMessages: number;
  /** Characters of history sent at most (default 400000); the run's own message always goes. */
  maxChars?: number;
}

/** Build the ModelRequest for one run. */
export function buildModelRequest(options: BuildRequestOptions): ModelRequest {
  const ordered = orderConversation(options.history, options.userMessageId);
  const messages = fitBudget(pairToolCalls(ordered.map(toModelMessage).filter(isDefined)), options);
  const request: ModelRequest = { messages };
  const system = joinSystemPrompt(options.systemPrompt, options.workspaceInstructions, options.workspacePersona, options.extraSystemPrompt);
  if (system !== undefined) request.systemPrompt = system;
  if (options.tools !== undefined && options.tools.length > 0) request.tools = options.tools;
  if (options.thinking !== undefined) request.thinking = options.thinking;
  return request;
}

/**
 * Read `<workspaceDir>/<fileName>` (default AGENTS.md), at most
 * MAX_AGENTS_MD_BYTES. Undefined when it is missing, empty or unreadable:
 * instructions are optional.
 */
export async function readWorkspaceInstructions(workspaceDir: string | undefined, fileName = 'AGENTS.md'): Promise<string | undefined> {
  if (workspaceDir === undefined) return undefined;
  let handle;
  try {
    handle = await open(join(workspaceDir, fileName), 'r');
    const buffer = Buffer.alloc(MAX_AGENTS_MD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_AGENTS_MD_BYTES, 0);
    // A cut may split a UTF-8 sequence; the decoder replaces the tail with U+FFFD.
    const text = buffer.subarray(0, bytesRead).toString('utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Put each run's rows right after the user message that started it, and drop
 * everything of later turns. Storage order differs when a turn was queued:
 * u1, u2, a1, a2 is shown to the model as u1, a1, u2, a2.
 */
function orderConversation(history: StoredMessage[], userMessageId: string): StoredMessage[] {
  const current = history.find((m) => m.id === userMessageId);
  const userRuns = new Set<string>();
  for (const m of history) if (m.role === 'user' && m.runId !== undefined) userRuns.add(m.runId);
  const byRun = new Map<string, StoredMessage[]>();
  for (const m of history) {
    if (m.role === 'user' || m.runId === undefined || !userRuns.has(m.runId)) continue;
    const rows = byRun.get(m.runId);
    if (rows === undefined) byRun.set(m.runId, [m]);
    else rows.push(m);
  }
  const out: StoredMessage[] = [];
  for (const m of history) {
    if (m === current) break;
    if (m.role === 'user') {
      out.push(m);
      if (m.runId !== undefined) out.push(...(byRun.get(m.runId) ?? []));
    } else if (m.runId === undefined || !userRuns.has(m.runId)) {
      out.push(m);
    }
  }
  if (current !== undefined) out.push(current);
  return out;
}

/** Stored → model form. Failed, interrupted and empty assistant rows are not shown to the model. */
function toModelMessage(m: StoredMessage): ModelMessage | undefined {
  if (m.role === 'user') return m.content.length === 0 ? undefined : { role: 'user', content: m.content };
  if (m.role === 'toolResult') {
    if (m.toolCallId === undefined) return undefined;
    return { role: 'toolResult', toolCallId: m.toolCallId, toolName: m.toolName ?? '', content: m.content, isError: m.isError === true };
  }
  if (m.stopReason === 'error' || m.stopReason === 'interrupted') return undefined;
  const content = m.content.filter((b) => b.type !== 'text' || b.text !== '');
  return content.length === 0 ? undefined : { role: 'assistant', content };
}

/**
 * Providers reject a tool call without a result and a result without its call.
 * History can have either (a cut window, an abort, a crash), so drop orphan
 * results and give unanswered calls a synthetic error result.
 */
function pairToolCalls(messages: ModelMessage[]): ModelMessage[] {
  const out: ModelMessage[] = [];
  let open = new Map<string, string>();
  const closeOpen = (): void => {
    for (const [id, name] of open) {
      out.push({ role: 'toolResult', toolCallId: id, toolName: name, content: [{ type: 'text', text: 'no result was recorded for this tool call' }], isError: true });
    }
    open = new Map();
  };
  for (const m of messages) {
    if (m.role === 'toolResult') {
      if (!open.has(m.toolCallId)) continue;
      open.delete(m.toolCallId);
      out.push(m);
      continue;
    }
    closeOpen();
    out.push(m);
    if (m.role === 'assistant') {
      for (const block of m.content) if (block.type === 'toolCall') open.set(block.id, block.name);
    }
  }
  closeOpen();
  return out;
}

/** Keep the newest messages within both budgets, starting at a user message. */
function fitBudget(messages: ModelMessage[], options: BuildRequestOptions): ModelMessage[] {
  const maxMessages = Math.max(1, options.maxMessages);
  const maxChars = options.maxChars ?? DEFAULT_MAX_CONTEXT_CHARS;
  let start = messages.length;
  let chars = 0;
  while (start > 0) {
    const cost = messageChars(messages[start - 1] as ModelMessage);
    const first = start === messages.length;
    if (!first && (messages.length - start + 1 > maxMessages || chars + cost > maxChars)) break;
    chars += cost;
    start--;
  }
  // A window must not open with tool results or the assistant turn they answer.
  while (start < messages.length - 1 && messages[start]?.role !== 'user') start++;
  return messages.slice(start);
}

function messageChars(m: ModelMessage): number {
  return contentChars(m.content);
}

function contentChars(content: ContentBlock[]): number {
  let chars = 0;
  for (const block of content) {
    if (block.type === 'text') chars += block.text.length;
    else if (block.type === 'thinking') chars += block.thinking.length;
    else if (block.type === 'image') chars += IMAGE_BUDGET_CHARS;
    else chars += block.name.length + JSON.stringify(block.arguments).length;
  }
  return chars;
}

function joinSystemPrompt(...parts: (string | undefined)[]): string | undefined {
  const [base, workspace, persona, extra] = parts.map((p) => (p === undefined || p.trim() === '' ? undefined : p.trim()));
  const sections: string[] = [];
  if (base !== undefined) sections.push(base);
  if (workspace !== undefined) sections.push(`# Workspace instructions (AGENTS.md)\n\n${workspace}`);
  if (persona !== undefined) sections.push(`# Persona (SOUL.md)\n\n${persona}`);
  if (extra !== undefined) sections.push(extra);
  return sections.length === 0 ? undefined : sections.join('\n\n');
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
