/**
 * Client-side function tools of both endpoints, as OpenClaw documents them
 * (docs/protocol.md §7.1): the definitions are checked field by field (a bad
 * one is a 400 naming it), `tool_choice` picks which are offered, and a call
 * the run stops at is rendered in each API's shape by the endpoints.
 *
 * - `auto` (the default): the client's tools are offered beside the
 *   gateway's own; the model may call either.
 * - `none`: the client's tools are not offered.
 * - `required` / a named function: only those client tools are offered, the
 *   run is told to call one before answering, and a reply without such a
 *   call is a failed run (502 / `response.failed`).
 */

import type { ToolCallBlock } from '../../messages/types.js';
import type { ToolSpec } from '../../providers/types.js';
import { invalidParam } from './request-error.js';

/** OpenAI's rule for function names. */
const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const EMPTY_PARAMETERS: Record<string, unknown> = { type: 'object', properties: {} };

export interface ClientToolRequest {
  /** Offered to the model beside the gateway's tools (empty with `tool_choice: "none"`). */
  tools: ToolSpec[];
  /** Set by `required` or a named function: the run must end at a call to one of these. */
  required?: string[];
}

/** Which fields hold what, per API: chat nests under `function`, Responses does not. */
interface ToolShape {
  /** `tools[0].function.` or `tools[0].` */
  prefix(index: number): string;
  fields(tool: Record<string, unknown>): Record<string, unknown> | undefined;
  /** The function name a tool_choice object pins, and the param naming it. */
  pinned(choice: Record<string, unknown>): { name: unknown; param: string };
}

const CHAT_SHAPE: ToolShape = {
  prefix: (index) => `tools[${index}].function.`,
  fields: (tool) => (isObject(tool.function) ? tool.function : undefined),
  pinned: (choice) => ({ name: isObject(choice.function) ? choice.function.name : undefined, param: 'tool_choice.function.name' }),
};

const RESPONSES_SHAPE: ToolShape = {
  prefix: (index) => `tools[${index}].`,
  fields: (tool) => tool,
  pinned: (choice) => ({ name: choice.name, param: 'tool_choice.name' }),
};

/** `tools` and `tool_choice` of a Chat Completions body. */
export function parseChatTools(body: { tools?: readonly unknown[] | null; tool_choice?: unknown }): ClientToolRequest | undefined {
  return parseClientTools(body, CHAT_SHAPE);
}

/** `tools` and `tool_choice` of a Responses body. */
export function parseResponsesTools(body: { tools?: readonly unknown[] | null; tool_choice?: unknown }): ClientToolRequest | undefined {
  return parseClientTools(body, RESPONSES_SHAPE);
}

/** The system-prompt line that asks for a client tool call under `required` or a pinned function. */
export function requiredToolInstruction(required: readonly string[]): string {
  const names = required.map((name) => `\`${name}\``).join(', ');
  return required.length === 1
    ? `Before you answer, call the tool ${names}; the client runs it and sends its result back.`
    : `Before you answer, call one of the tools ${names}; the client runs it and sends its result back.`;
}

/** The calls of a run that answer a `required` choice; empty when it has none. */
export function matchingCalls(calls: readonly ToolCallBlock[] | undefined, required: readonly string[]): ToolCallBlock[] {
  return (calls ?? []).filter((call) => required.includes(call.name));
}

function parseClientTools(body: { tools?: readonly unknown[] | null; tool_choice?: unknown }, shape: ToolShape): ClientToolRequest | undefined {
  const list = body.tools ?? [];
  const tools = list.map((tool, index) => parseTool(tool, index, shape));
  const choice = body.tool_choice ?? undefined;
  if (choice === undefined || choice === 'auto') return tools.length === 0 ? undefined : { tools };
  if (choice === 'none') return undefined;
  if (tools.length === 0) throw invalidParam('tool_choice', `tool_choice ${JSON.stringify(choice)} needs at least one tool in 'tools'.`);
  if (choice === 'required') return { tools, required: tools.map((tool) => tool.name) };
  if (!isObject(choice) || choice.type !== 'function') {
    const type = isObject(choice) ? String(choice.type) : String(choice);
    throw invalidParam('tool_choice', `tool_choice '${type}' is not supported; use 'auto', 'none', 'required' or a function.`, 'unsupported_value');
  }
  const { name, param } = shape.pinned(choice);
  const pinned = tools.find((tool) => tool.name === name);
  if (pinned === undefined) throw invalidParam(param, `tool_choice names ${JSON.stringify(name)}, which is not one of the given tools.`);
  return { tools: [pinned], required: [pinned.name] };
}

function parseTool(tool: unknown, index: number, shape: ToolShape): ToolSpec {
  if (!isObject(tool)) throw invalidParam(`tools[${index}]`, 'Each tool must be an object.');
  if (tool.type !== 'function') {
    throw invalidParam(`tools[${index}].type`, `Only function tools are supported (got ${JSON.stringify(tool.type)}).`, 'unsupported_value');
  }
  const fields = shape.fields(tool);
  const prefix = shape.prefix(index);
  if (fields === undefined) throw invalidParam(prefix.slice(0, -1), "A function tool needs a 'function' object.");
  const { name, description, parameters } = fields;
  if (typeof name !== 'string' || name === '') throw invalidParam(`${prefix}name`, 'A function tool needs a name.');
  if (!TOOL_NAME_PATTERN.test(name)) {
    throw invalidParam(`${prefix}name`, `Invalid tool name '${name}': use 1-64 letters, digits, '_' or '-'.`);
  }
  if (description !== undefined && description !== null && typeof description !== 'string') {
    throw invalidParam(`${prefix}description`, 'The description must be a string.');
  }
  if (parameters !== undefined && parameters !== null && !isObject(parameters)) {
    throw invalidParam(`${prefix}parameters`, 'The parameters must be a JSON Schema object.');
  }
  return { name, description: description ?? '', parameters: (parameters as Record<string, unknown> | null | undefined) ?? EMPTY_PARAMETERS };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
