/**
 * Provider-neutral context → Anthropic Messages request body. Pure, so it is
 * tested without a server; the SDK is referenced for types only.
 */

import type { Anthropic } from '@anthropic-ai/sdk';
import type { ContentBlock } from '../messages/types.js';
import type { ModelMessage, ModelRequest, ToolSpec } from './types.js';

/** Output cap when the request sets none; the API requires one, tokens. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 8_192;

type MessageParam = Anthropic.MessageParam;
type ImageMediaType = Anthropic.Base64ImageSource['media_type'];
type ToolResultContent = Exclude<Anthropic.ToolResultBlockParam['content'], string | undefined>;

const IMAGE_MEDIA_TYPES: readonly string[] = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] satisfies ImageMediaType[];

/** Build the streaming request body for `model`. */
export function buildMessagesRequest(model: string, request: ModelRequest): Anthropic.MessageCreateParamsStreaming {
  const body: Anthropic.MessageCreateParamsStreaming = {
    model,
    max_tokens: request.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    messages: toAnthropicMessages(request.messages),
    stream: true,
  };
  if (request.systemPrompt) body.system = request.systemPrompt;
  if (request.tools && request.tools.length > 0) body.tools = request.tools.map(toAnthropicTool);
  // request.thinking is not sent: extended thinking needs a model that supports
  // it and signed thinking blocks replayed with tool use, which history lacks.
  return body;
}

/**
 * History → messages. Consecutive tool results become one user message, as
 * the API wants every result of one assistant turn in the next user turn.
 */
export function toAnthropicMessages(messages: ModelMessage[]): MessageParam[] {
  const out: MessageParam[] = [];
  let pendingResults: Anthropic.ToolResultBlockParam[] | undefined;
  for (const message of messages) {
    if (message.role === 'toolResult') {
      const result: Anthropic.ToolResultBlockParam = { type: 'tool_result', tool_use_id: message.toolCallId };
      const content = toToolResultContent(message.content);
      if (content.length > 0) result.content = content;
      if (message.isError) result.is_error = true;
      if (pendingResults) pendingResults.push(result);
      else {
        pendingResults = [result];
        out.push({ role: 'user', content: pendingResults });
      }
      continue;
    }
    pendingResults = undefined;
    if (message.role === 'user') {
      const content = toUserBlocks(message.content);
      if (content.length > 0) out.push({ role: 'user', content });
    } else {
      const content = toAssistantBlocks(message.content);
      // An empty assistant turn (aborted before any output) is rejected by the API.
      if (content.length > 0) out.push({ role: 'assistant', content });
    }
  }
  return out;
}

function toUserBlocks(content: ContentBlock[]): Anthropic.ContentBlockParam[] {
  const blocks: Anthropic.ContentBlockParam[] = [];
  for (const block of content) {
    // Empty text blocks are rejected by the API.
    if (block.type === 'text' && block.text !== '') blocks.push({ type: 'text', text: block.text });
    else if (block.type === 'image') blocks.push(toImageOrNote(block));
  }
  return blocks;
}

/** Thinking blocks are dropped: without their signature the API refuses them. */
function toAssistantBlocks(content: ContentBlock[]): Anthropic.ContentBlockParam[] {
  const blocks: Anthropic.ContentBlockParam[] = [];
  for (const block of content) {
    if (block.type === 'text' && block.text !== '') blocks.push({ type: 'text', text: block.text });
    else if (block.type === 'toolCall') blocks.push({ type: 'tool_use', id: block.id, name: block.name, input: block.arguments });
  }
  return blocks;
}

function toToolResultContent(content: ContentBlock[]): ToolResultContent {
  const blocks: ToolResultContent = [];
  for (const block of content) {
    if (block.type === 'text' && block.text !== '') blocks.push({ type: 'text', text: block.text });
    else if (block.type === 'image') blocks.push(toImageOrNote(block));
  }
  return blocks;
}

function toImageOrNote(
  block: Extract<ContentBlock, { type: 'image' }>,
): Anthropic.ImageBlockParam | Anthropic.TextBlockParam {
  const mediaType = block.source.media_type;
  if (!isImageMediaType(mediaType)) return { type: 'text', text: `[image ${mediaType} omitted: unsupported type]` };
  return { type: 'image', source: { type: 'base64', media_type: mediaType, data: block.source.data } };
}

function isImageMediaType(value: string): value is ImageMediaType {
  return IMAGE_MEDIA_TYPES.includes(value);
}

function toAnthropicTool(tool: ToolSpec): Anthropic.Tool {
  return { name: tool.name, description: tool.description, input_schema: { ...tool.parameters, type: 'object' } };
}
