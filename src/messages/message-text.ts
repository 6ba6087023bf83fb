/**
 * The visible text of a message: what a reply "says" once thinking, tool
 * calls and images are left out.
 */

import type { ContentBlock } from './types.js';

/** The text blocks of `message` joined; '' when it has none (or no message). */
export function messageText(message: { content: readonly ContentBlock[] } | undefined): string {
  if (message === undefined) return '';
  let text = '';
  for (const block of message.content) if (block.type === 'text') text += block.text;
  return text;
}
