/**
 * Turn an OpenAI request's message list into one agent turn.
 *
 * Rule (documented in docs and the module tests):
 * - `system` and `developer` messages (and Responses `instructions`) are
 *   joined into the run's extraSystemPrompt; they are not stored.
 * - The last `user` message is the turn: its text (text parts joined by a
 *   newline) and its inline images become the stored user message.
 * - The session is the conversation's memory. When it already has history,
 *   earlier user/assistant messages of the request are ignored (clients that
 *   resend the whole conversation would otherwise duplicate it). When the
 *   session is empty, they are folded into the turn's text as a short
 *   transcript so a stateless client keeps its context.
 * - When the conversation ends with tool results (`tool`/`function`
 *   messages, Responses `function_call_output` items), they are the turn:
 *   they answer the calls the session's last run handed to the client, and
 *   the conversation continues from them. Other tool messages and the
 *   client's copies of tool calls are ignored: the session holds them.
 */

import type { ClientToolResult } from '../../agent/types.js';
import type { ChatMessage, ResponseInputItem } from './schemas.js';
import { invalidParam } from './request-error.js';

export interface TurnImage {
  mediaType: string;
  data: string;
}

export interface NormalizedMessage {
  /** `tool`: a client's result for a tool call (`text` is the output). */
  role: 'system' | 'user' | 'assistant' | 'tool';
  text: string;
  images: TurnImage[];
  /** Tool results: the call answered, or (legacy `function` messages) the tool's name. */
  callId?: string;
  name?: string;
  /** Tool results: the field that names the call, for errors (`messages[2].tool_call_id`). */
  callParam?: string;
}

export interface TurnInput {
  text: string;
  images: TurnImage[];
  extraSystemPrompt?: string;
  /** Set when the conversation ends with tool results: they are the turn, and `text` is ''. */
  toolResults?: ClientToolResult[];
}

const IMAGE_MEDIA_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const DATA_URL_PATTERN = /^data:([a-z]+\/[a-z0-9.+-]+)(?:;[a-z0-9=.+-]+)*;base64,([a-z0-9+/=\s]*)$/i;

const TRANSCRIPT_HEADER = '[Earlier messages of this conversation, for context]';
const CURRENT_HEADER = '[Current message]';

/** Chat Completions `messages` → neutral messages. */
export function normalizeChatMessages(messages: ChatMessage[]): NormalizedMessage[] {
  const out: NormalizedMessage[] = [];
  messages.forEach((message, index) => {
    if (message.role === 'tool' || message.role === 'function') {
      out.push(chatToolResult(message, index));
      return;
    }
    const role = message.role === 'system' || message.role === 'developer' ? 'system' : message.role;
    const texts: string[] = [];
    const images: TurnImage[] = [];
    const content = message.content ?? '';
    if (typeof content === 'string') {
      texts.push(content);
    } else {
      content.forEach((part, partIndex) => {
        if (part.type === 'text') texts.push(part.text);
        else if (part.type === 'refusal') texts.push(part.refusal);
        else if (role === 'user') {
          images.push(parseImageUrl(part.image_url.url, `messages[${index}].content[${partIndex}].image_url.url`));
        }
      });
    }
    out.push({ role, text: texts.join('\n'), images });
  });
  return out;
}

/** Responses `input` (+ `instructions`) → neutral messages. */
export function normalizeResponsesInput(
  input: string | ResponseInputItem[],
  instructions: string | null | undefined,
): NormalizedMessage[] {
  const out: NormalizedMessage[] = [];
  if (instructions !== undefined && instructions !== null && instructions !== '') {
    out.push({ role: 'system', text: instructions, images: [] });
  }
  if (typeof input === 'string') {
    out.push({ role: 'user', text: input, images: [] });
    return out;
  }
  input.forEach((item, index) => {
    if (item.type === 'function_call_output') {
      out.push({ role: 'tool', text: item.output, images: [], callId: item.call_id });
      return;
    }
    // The client's copies of calls and reasoning: the session already holds them.
    if (item.type !== undefined && item.type !== 'message') return;
    const role = item.role === 'developer' ? 'system' : item.role;
    const texts: string[] = [];
    const images: TurnImage[] = [];
    if (typeof item.content === 'string') {
      texts.push(item.content);
    } else {
      item.content.forEach((part, partIndex) => {
        if (part.type !== 'input_image') {
          texts.push(part.text);
          return;
        }
        const param = `input[${index}].content[${partIndex}].image_url`;
        if (typeof part.image_url !== 'string') throw invalidParam(param, 'Only inline image_url data URLs are supported.');
        if (role === 'user') images.push(parseImageUrl(part.image_url, param));
      });
    }
    out.push({ role, text: texts.join('\n'), images });
  });
  return out;
}

/**
 * Build the agent turn from neutral messages (see the module rule).
 * `param` names the request field in errors (`messages` or `input`).
 */
export function buildTurnInput(messages: NormalizedMessage[], sessionHasHistory: boolean, param: string): TurnInput {
  const system = systemPrompt(messages);
  const toolResults = trailingToolResults(messages);
  if (toolResults.length > 0) {
    const turn: TurnInput = { text: '', images: [], toolResults };
    if (system !== '') turn.extraSystemPrompt = system;
    return turn;
  }
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') {
      lastUser = i;
      break;
    }
  }
  if (lastUser < 0) throw invalidParam(param, `'${param}' must contain at least one user message.`);
  const current = messages[lastUser];
  if (current.text.trim() === '' && current.images.length === 0) {
    throw invalidParam(param, 'The last user message is empty.');
  }
  const prior = sessionHasHistory
    ? []
    : messages.slice(0, lastUser).filter((message) => (message.role === 'user' || message.role === 'assistant') && message.text.trim() !== '');
  const text = prior.length === 0 ? current.text : formatTranscript(prior, current.text);
  const turn: TurnInput = { text, images: current.images };
  if (system !== '') turn.extraSystemPrompt = system;
  return turn;
}

/**
 * The tool results the conversation ends with (system messages in between do
 * not count), oldest first. Each must name the call it answers.
 */
export function trailingToolResults(messages: NormalizedMessage[]): ClientToolResult[] {
  const results: ClientToolResult[] = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message.role === 'system') continue;
    if (message.role !== 'tool') break;
    if (message.callId === undefined && message.name === undefined) {
      throw invalidParam(message.callParam ?? 'messages', 'A tool result must name the call it answers.');
    }
    const result: ClientToolResult = { output: message.text };
    if (message.callId !== undefined) result.callId = message.callId;
    if (message.name !== undefined) result.name = message.name;
    results.unshift(result);
  }
  return results;
}

function systemPrompt(messages: NormalizedMessage[]): string {
  return messages
    .filter((message) => message.role === 'system' && message.text.trim() !== '')
    .map((message) => message.text)
    .join('\n\n');
}

/** A `tool` message (bound by `tool_call_id`) or a legacy `function` message (bound by `name`); checked only when it is the turn. */
function chatToolResult(message: ChatMessage, index: number): NormalizedMessage {
  const content = message.content ?? '';
  const text = typeof content === 'string' ? content : content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
  const result: NormalizedMessage = { role: 'tool', text, images: [] };
  if (message.role === 'function') {
    result.callParam = `messages[${index}].name`;
    if (typeof message.name === 'string' && message.name !== '') result.name = message.name;
  } else {
    result.callParam = `messages[${index}].tool_call_id`;
    if (typeof message.tool_call_id === 'string' && message.tool_call_id !== '') result.callId = message.tool_call_id;
  }
  return result;
}

function formatTranscript(prior: NormalizedMessage[], currentText: string): string {
  const lines = prior.map((message) => `${message.role === 'user' ? 'User' : 'Assistant'}: ${message.text}`);
  return `${TRANSCRIPT_HEADER}\n${lines.join('\n')}\n\n${CURRENT_HEADER}\n${currentText}`;
}

/** Only inline `data:` images: Pincer never fetches a URL on a client's behalf. */
function parseImageUrl(url: string, param: string): TurnImage {
  const match = DATA_URL_PATTERN.exec(url);
  if (match === null) {
    throw invalidParam(param, 'Only inline base64 data URLs (data:image/...;base64,...) are supported for images.');
  }
  const mediaType = match[1].toLowerCase();
  if (!IMAGE_MEDIA_TYPES.has(mediaType)) {
    throw invalidParam(param, `Unsupported image type '${mediaType}'; use png, jpeg, gif or webp.`);
  }
  const data = match[2].replace(/\s+/g, '');
  if (data === '') throw invalidParam(param, 'The image data is empty.');
  return { mediaType, data };
}
