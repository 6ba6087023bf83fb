/**
 * Cuts reply text so that a frame stays under policy.maxPayload (issue 13
 * item 6). A reply larger than one frame still arrives, cut, marked
 * `truncated: true`; chat.message.get reads the rest page by page.
 */

import type { ContentBlock } from '../../messages/types.js';
import { jsonStringBytes } from '../../util/json-parts.js';

/** Room for the fields added with a cut (`"truncated":true` and a margin), bytes. */
export const CUT_MARKER_BYTES = 64;
/** Most JSON bytes one UTF-16 code unit can take (`\u0000`). */
const MAX_JSON_BYTES_PER_CHAR = 6;

/** UTF-8 bytes of a string once JSON-escaped, without its quotes (counted, not built: a cut of megabytes costs no copy). */
export const jsonTextBytes = jsonStringBytes;

/** End index at most `end` that does not split a surrogate pair. */
export function safeEnd(text: string, end: number): number {
  if (end <= 0) return 0;
  if (end >= text.length) return text.length;
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}

/**
 * The longest part of `text` from `start` whose JSON-escaped UTF-8 is at most
 * `maxBytes`. Only slices of about `maxBytes` characters are measured, so a
 * huge text costs no more than its cut.
 */
export function cutTextToBytes(text: string, maxBytes: number, start = 0): string {
  if (maxBytes <= 0) return '';
  const available = text.length - start;
  // Even at the worst escaping (6 bytes a character) it fits: nothing to measure.
  if (available * MAX_JSON_BYTES_PER_CHAR <= maxBytes) return start === 0 ? text : text.slice(start);
  // Each character is at least one byte: start from maxBytes characters and shrink by the measured ratio.
  let end = safeEnd(text, start + Math.min(available, maxBytes));
  for (;;) {
    const slice = text.slice(start, end);
    const bytes = jsonTextBytes(slice);
    if (bytes <= maxBytes) return slice;
    const length = end - start;
    end = safeEnd(text, start + Math.min(length - 1, Math.floor((length * maxBytes) / bytes)));
  }
}

/**
 * Content with its text blocks cut so that their JSON text takes `maxTextBytes`
 * at most: blocks are kept in order until the budget runs out, the one that
 * crosses it is cut, later text blocks are dropped. Other blocks stay.
 */
export function cutContentText(content: readonly ContentBlock[], maxTextBytes: number): ContentBlock[] {
  let left = Math.max(0, maxTextBytes);
  const out: ContentBlock[] = [];
  for (const block of content) {
    if (block.type !== 'text') {
      out.push(block);
      continue;
    }
    if (left <= 0) continue;
    const text = cutTextToBytes(block.text, left);
    if (text.length === block.text.length) {
      out.push(block);
      left -= jsonTextBytes(text);
      continue;
    }
    if (text !== '') out.push({ type: 'text', text });
    left = 0;
  }
  return out;
}

/** JSON text bytes of a content's text blocks. */
export function contentTextBytes(content: readonly ContentBlock[]): number {
  let bytes = 0;
  for (const block of content) if (block.type === 'text') bytes += jsonTextBytes(block.text);
  return bytes;
}

/** A message with its text cut to `maxTextBytes` of JSON text and `truncated: true` set. */
export function cutMessageText<T extends { content: ContentBlock[] }>(message: T, maxTextBytes: number): T & { truncated: true } {
  return { ...message, content: cutContentText(message.content, maxTextBytes), truncated: true };
}

/**
 * A message smaller by at least `excessBytes`, its text cut and
 * `truncated: true` set; undefined when its text alone cannot give that much.
 */
export function cutMessage<T extends { content: ContentBlock[] }>(message: T, excessBytes: number): (T & { truncated: true }) | undefined {
  const target = contentTextBytes(message.content) - excessBytes - CUT_MARKER_BYTES;
  return target < 0 ? undefined : cutMessageText(message, target);
}

/** The same content with every text block emptied (to measure what surrounds the text). */
export function withoutText(content: readonly ContentBlock[]): ContentBlock[] {
  return content.map((block) => (block.type === 'text' ? { type: 'text', text: '' } : block));
}
