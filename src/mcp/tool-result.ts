/**
 * Turn an MCP tools/call result into a tool result for the model: text as
 * text, images as images (the kinds both providers take), structured content
 * as JSON text, anything else named in a short note. Text is capped like the
 * exec tool's output, with a note saying how much was dropped.
 */

import type { ContentBlock } from '../messages/types.js';
import type { ToolOutcome } from '../agent/tool-types.js';

/** Image types the Anthropic API accepts (OpenAI takes the same); others are named, not sent. */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/**
 * Base64 image data one result may carry, chars. Stays under the loop's
 * 200000-char result limit, so a large screenshot is named instead of
 * failing the whole result.
 */
export const MAX_IMAGE_CHARS = 150_000;

/** Loose view of a CallToolResult: servers are not trusted to follow the schema. */
export interface McpCallResult {
  content?: unknown;
  structuredContent?: unknown;
  isError?: unknown;
}

/** Convert a result; `maxTextBytes` caps all text together (UTF-8 bytes). */
export function toToolOutcome(result: McpCallResult, maxTextBytes: number): ToolOutcome {
  const blocks: ContentBlock[] = [];
  const budget = { textBytes: maxTextBytes, droppedBytes: 0, imageChars: MAX_IMAGE_CHARS };
  const items = Array.isArray(result.content) ? result.content : [];
  for (const item of items) {
    const block = convertItem(item, budget);
    if (block !== undefined) blocks.push(block);
  }
  const hasText = blocks.some((block) => block.type === 'text');
  if (result.structuredContent !== undefined && !hasText) {
    // Servers should also send structured results as text; for those that do not, the model still gets the data.
    const block = capText(JSON.stringify(result.structuredContent) ?? 'null', budget);
    if (block !== undefined) blocks.push(block);
  }
  if (budget.droppedBytes > 0) blocks.push({ type: 'text', text: `[output truncated: ${budget.droppedBytes} more bytes were dropped]` });
  if (blocks.length === 0) blocks.push({ type: 'text', text: '(no output)' });
  return { content: blocks, isError: result.isError === true };
}

interface Budget {
  textBytes: number;
  droppedBytes: number;
  imageChars: number;
}

function convertItem(item: unknown, budget: Budget): ContentBlock | undefined {
  if (!isObject(item)) return undefined;
  switch (item.type) {
    case 'text':
      return typeof item.text === 'string' ? capText(item.text, budget) : undefined;
    case 'image': {
      const mimeType = typeof item.mimeType === 'string' ? item.mimeType.toLowerCase() : '';
      const data = typeof item.data === 'string' ? item.data : '';
      if (!IMAGE_TYPES.has(mimeType)) return capText(`[image ${mimeType || 'of unknown type'} not shown: only PNG, JPEG, GIF and WebP are passed on]`, budget);
      if (data.length > budget.imageChars) return capText(`[image ${mimeType} of ${base64Bytes(data)} bytes not shown: too large for a tool result]`, budget);
      budget.imageChars -= data.length;
      return { type: 'image', source: { type: 'base64', media_type: mimeType, data } };
    }
    case 'audio':
      return capText(`[audio ${typeof item.mimeType === 'string' ? item.mimeType : ''} of ${base64Bytes(String(item.data ?? ''))} bytes not shown]`, budget);
    case 'resource': {
      const resource = isObject(item.resource) ? item.resource : {};
      const uri = typeof resource.uri === 'string' ? resource.uri : '';
      if (typeof resource.text === 'string') return capText(`[resource ${uri}]\n${resource.text}`, budget);
      return capText(`[resource ${uri} (${typeof resource.mimeType === 'string' ? resource.mimeType : 'binary'}) not shown]`, budget);
    }
    case 'resource_link':
      return capText(`[resource link: ${typeof item.name === 'string' ? item.name : ''} ${typeof item.uri === 'string' ? item.uri : ''}]`.replace(/ +]/, ']'), budget);
    default:
      return capText(`[${typeof item.type === 'string' ? item.type : 'unknown'} content not shown]`, budget);
  }
}

/** The text within what is left of the budget; undefined when nothing of it fits. */
function capText(text: string, budget: Budget): ContentBlock | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= budget.textBytes) {
    budget.textBytes -= bytes;
    return { type: 'text', text };
  }
  const kept = truncateUtf8(text, budget.textBytes);
  budget.droppedBytes += bytes - Buffer.byteLength(kept, 'utf8');
  budget.textBytes = 0;
  return kept === '' ? undefined : { type: 'text', text: kept };
}

/** The longest prefix of `text` within `maxBytes` UTF-8 bytes, never splitting a character. */
function truncateUtf8(text: string, maxBytes: number): string {
  const buffer = Buffer.from(text, 'utf8').subarray(0, maxBytes);
  // A cut inside a multi-byte sequence decodes to U+FFFD at the end; drop it.
  return buffer.toString('utf8').replace(/\uFFFD+$/, '');
}

function base64Bytes(data: string): number {
  return Math.floor((data.replace(/=+$/, '').length * 3) / 4);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
