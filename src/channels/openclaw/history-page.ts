/**
 * Fits chat.history pages and chat.message.get text pages under a byte
 * budget (docs/protocol.md §3.3, issue 13 item 6). Newest messages come first; a
 * message that can never fit whole is cut with `truncated: true`, and its
 * text is read page by page from an offset.
 */

import type { ContentBlock } from '../../messages/types.js';
import type { WireMessage } from './message-shape.js';
import { cutMessage, cutTextToBytes } from './reply-cut.js';

/** Least room worth cutting a message into, bytes: below this the page ends instead. */
export const MIN_CUT_BYTES = 1024;
/** Bytes of `{"type":"text","text":""}` inside the content array, and a margin. */
const PAGE_BLOCK_BYTES = 32;

/**
 * The newest messages whose JSON array fits `targetBytes` (oldest dropped
 * first). When not even the newest fits, it is sent alone if it fits
 * `hardBytes` (one readable message may exceed a client's target, as in
 * OpenClaw). A message larger than `hardBytes` can never be read whole here:
 * it is cut to at most half the target, so the messages before it still show.
 */
export function fitHistoryPage(messages: readonly WireMessage[], targetBytes: number, hardBytes: number): WireMessage[] {
  let total = 2; // the array brackets
  const out: WireMessage[] = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    const size = byteLength(message) + 1; // plus a comma
    if (total + size <= targetBytes) {
      out.push(message);
      total += size;
      continue;
    }
    if (out.length === 0 && total + size <= hardBytes) {
      out.push(message);
      break;
    }
    const limit = Math.min(targetBytes - total, Math.floor(targetBytes / 2));
    if (size <= hardBytes || limit < MIN_CUT_BYTES) break;
    const cut = cutMessage(message, size - limit);
    if (cut === undefined) break;
    out.push(cut);
    total += byteLength(cut) + 1;
  }
  return out.reverse();
}

export interface TextPage {
  /** The message, or (when paged) its shell with one text block holding the page. */
  message: WireMessage | (WireMessage & { truncated: true });
  offset: number;
  /** Where the next page starts, UTF-16 code units. */
  nextOffset: number;
  /** Length of the message's visible text, UTF-16 code units. */
  totalChars: number;
  hasMore: boolean;
}

/**
 * One page of a message for chat.message.get: the whole message when it fits
 * `budgetBytes` and `offset` is 0, else its visible text from `offset`, cut to
 * the budget. Undefined when the budget cannot hold a single character.
 */
export function pageMessageText(message: WireMessage, text: string, offset: number, budgetBytes: number): TextPage | undefined {
  if (offset === 0 && byteLength(message) <= budgetBytes) {
    return { message, offset: 0, nextOffset: text.length, totalChars: text.length, hasMore: false };
  }
  const shell = { ...message, content: [] as ContentBlock[], truncated: true as const };
  // The page's text goes into `[{"type":"text","text":""}]`.
  const room = budgetBytes - byteLength(shell) - PAGE_BLOCK_BYTES;
  const slice = cutTextToBytes(text, room, offset);
  if (slice === '' && offset < text.length) return undefined;
  const nextOffset = offset + slice.length;
  return {
    message: { ...shell, content: [{ type: 'text', text: slice }] },
    offset,
    nextOffset,
    totalChars: text.length,
    hasMore: nextOffset < text.length,
  };
}

/** Bytes of a value's JSON. */
export function byteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
