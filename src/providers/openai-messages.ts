/**
 * Provider-neutral context → Chat Completions request body. Pure, so it is
 * tested without a server; the SDK is referenced for types only.
 */

import type { OpenAI } from 'openai';
import type { ContentBlock } from '../messages/types.js';
import type { ModelMessage, ModelRequest, ToolSpec } from './types.js';

type MessageParam = OpenAI.ChatCompletionMessageParam;
type ContentPart = OpenAI.ChatCompletionContentPart;

/** Which field carries the output cap: OpenAI's own API rejects `max_tokens` on newer models, most compatible servers only know `max_tokens`. */
export type MaxTokensField = 'max_completion_tokens' | 'max_tokens';

/** Build the streaming request body for `model`. */
export function buildChatCompletionRequest(
  model: string,
  request: ModelRequest,
  maxTokensField: MaxTokensField,
): OpenAI.ChatCompletionCreateParamsStreaming {
  const body: OpenAI.ChatCompletionCreateParamsStreaming = {
    model,
    messages: toChatMessages(request),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (request.tools && request.tools.length > 0) body.tools = request.tools.map(toChatTool);
  if (request.maxOutputTokens !== undefined) body[maxTokensField] = request.maxOutputTokens;
  // request.thinking is not sent: `reasoning_effort` makes non-reasoning models
  // (and several compatible servers) reject the whole request.
  return body;
}

/** System prompt first, then the history with tool results as `role: 'tool'` messages. */
export function toChatMessages(request: ModelRequest): MessageParam[] {
  const out: MessageParam[] = [];
  if (request.systemPrompt) out.push({ role: 'system', content: request.systemPrompt });
  for (const message of request.messages) {
    const mapped = toChatMessage(message);
    if (mapped) out.push(mapped);
  }
  return out;
}

function toChatMessage(message: ModelMessage): MessageParam | undefined {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: toUserContent(message.content) };
    case 'assistant': {
      const text = joinText(message.content, '');
      const toolCalls: OpenAI.ChatCompletionMessageToolCall[] = [];
      for (const block of message.content) {
        if (block.type !== 'toolCall') continue;
        toolCalls.push({
          id: block.id,
          type: 'function',
          function: { name: block.name, arguments: JSON.stringify(block.arguments) },
        });
      }
      // An empty assistant turn (e.g. aborted before any output) is rejected by several servers.
      if (text === '' && toolCalls.length === 0) return undefined;
      const assistant: OpenAI.ChatCompletionAssistantMessageParam = { role: 'assistant', content: text === '' ? null : text };
      if (toolCalls.length > 0) assistant.tool_calls = toolCalls;
      return assistant;
    }
    case 'toolResult':
      return { role: 'tool', tool_call_id: message.toolCallId, content: toolResultText(message.content) };
  }
}

/** Plain string when the turn is only text (the most widely accepted form), parts when it has images. */
function toUserContent(content: ContentBlock[]): string | ContentPart[] {
  if (!content.some((block) => block.type === 'image')) return joinText(content, '\n');
  const parts: ContentPart[] = [];
  for (const block of content) {
    if (block.type === 'text') parts.push({ type: 'text', text: block.text });
    else if (block.type === 'image') {
      parts.push({ type: 'image_url', image_url: { url: `data:${block.source.media_type};base64,${block.source.data}` } });
    }
  }
  return parts;
}

/** Tool messages take text only in Chat Completions; images are named, not sent. */
function toolResultText(content: ContentBlock[]): string {
  const pieces: string[] = [];
  for (const block of content) {
    if (block.type === 'text') pieces.push(block.text);
    else if (block.type === 'image') pieces.push(`[image ${block.source.media_type} omitted]`);
  }
  return pieces.join('\n');
}

function joinText(content: ContentBlock[], separator: string): string {
  const texts: string[] = [];
  for (const block of content) if (block.type === 'text') texts.push(block.text);
  return texts.join(separator);
}

function toChatTool(tool: ToolSpec): OpenAI.ChatCompletionTool {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}
