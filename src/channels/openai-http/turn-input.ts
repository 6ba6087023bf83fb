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
 * - `tool`/`function` messages and anything after the last user message
 *   are ignored: the agent runs its own tools.
 */

import type { ChatMessage, ResponseInputItem } from './schemas.js';
import { invalidParam } from './request-error.js';

export interface TurnImage {
  mediaType: string;
  data: string;
}

export interface NormalizedMessage {
  role: 'system' | 'user' | 'assistant';
  text: string;
  images: TurnImage[];
}

export interface TurnInput {
  text: string;
  images: TurnImage[];
  extraSystemPrompt?: string;
}

const IMAGE_MEDIA_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const DATA_URL_PATTERN = /^data:([a-z]+\/[a-z0-9.+-]+)(?:;[a-z0-9=.+-]+)*;base64,([a-z0-9+/=\s]*)$/i;

const TRANSCRIPT_HEADER = '[Earlier messages of this conversation, for context]';
const CURRENT_HEADER = '[Current message]';

/** Chat Completions `messages` → neutral messages. */
export function normalizeChatMessages(messages: ChatMessage[]): NormalizedMessage[] {
  const out: NormalizedMessage[] = [];
  messages.forEach((message, index) => {
    const role = message.role === 'system' || message.role === 'developer' ? 'system' : message.role;
    if (role !== 'system' && role !== 'user' && role !== 'assistant') return;
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
  const system = messages
    .filter((message) => message.role === 'system' && message.text.trim() !== '')
    .map((message) => message.text)
    .join('\n\n');
  const prior = sessionHasHistory
    ? []
    : messages.slice(0, lastUser).filter((message) => message.role !== 'system' && message.text.trim() !== '');
  const text = prior.length === 0 ? current.text : formatTranscript(prior, current.text);
  const turn: TurnInput = { text, images: current.images };
  if (system !== '') turn.extraSystemPrompt = system;
  return turn;
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
