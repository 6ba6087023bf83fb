/**
 * Anthropic Messages wire format for the fake model server: stream events,
 * the non-streaming body and error bodies, shaped like api.anthropic.com.
 */

import { ARGUMENT_FRAGMENT_CHARS, splitFragments, sse } from './fake-model-types.js';
import type { ResolvedReply, SseFrame } from './fake-model-types.js';

const STOP_REASONS = { stop: 'end_turn', length: 'max_tokens', toolUse: 'tool_use' } as const;

/** The SSE events of a streamed reply, message_start to message_stop. */
export function anthropicStreamFrames(reply: ResolvedReply): SseFrame[] {
  const frames: SseFrame[] = [];
  const push = (type: string, data: Record<string, unknown>, content = false): void => {
    frames.push({ text: sse({ type, ...data }, type), content });
  };
  push('message_start', {
    message: {
      id: `msg_fake_${reply.seq}`,
      type: 'message',
      role: 'assistant',
      model: reply.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: reply.usage.input,
        cache_creation_input_tokens: reply.usage.cacheWrite,
        cache_read_input_tokens: reply.usage.cacheRead,
        output_tokens: 1,
      },
    },
  });
  frames.push({ text: sse({ type: 'ping' }, 'ping'), content: false });
  let index = 0;
  if (reply.thinkingChunks.length > 0) {
    push('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } });
    for (const piece of reply.thinkingChunks) {
      push('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } }, true);
    }
    push('content_block_delta', { index, delta: { type: 'signature_delta', signature: `sig_fake_${reply.seq}` } });
    push('content_block_stop', { index });
    index++;
  }
  if (reply.textChunks.length > 0) {
    push('content_block_start', { index, content_block: { type: 'text', text: '' } });
    for (const piece of reply.textChunks) push('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }, true);
    push('content_block_stop', { index });
    index++;
  }
  reply.toolCalls.forEach((call, n) => {
    const id = call.id ?? `toolu_fake_${reply.seq}_${n}`;
    push('content_block_start', { index, content_block: { type: 'tool_use', id, name: call.name, input: {} } }, true);
    // The real API opens every tool input with an empty fragment.
    push('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const fragment of splitFragments(call.json, ARGUMENT_FRAGMENT_CHARS)) {
      push('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: fragment } }, true);
    }
    push('content_block_stop', { index });
    index++;
  });
  if (reply.streamError !== undefined) {
    frames.push({ text: sse({ type: 'error', error: { type: 'overloaded_error', message: reply.streamError } }, 'error'), content: false });
    return frames;
  }
  push('message_delta', {
    delta: { stop_reason: STOP_REASONS[reply.stopReason], stop_sequence: null },
    usage: { output_tokens: reply.usage.output },
  });
  push('message_stop', {});
  return frames;
}

/** The body of a non-streaming `message`. */
export function anthropicMessageBody(reply: ResolvedReply): Record<string, unknown> {
  const content: Record<string, unknown>[] = [];
  if (reply.thinkingChunks.length > 0) {
    content.push({ type: 'thinking', thinking: reply.thinkingChunks.join(''), signature: `sig_fake_${reply.seq}` });
  }
  if (reply.textChunks.length > 0) content.push({ type: 'text', text: reply.textChunks.join('') });
  reply.toolCalls.forEach((call, n) => {
    let input: unknown;
    try {
      input = JSON.parse(call.json);
    } catch {
      input = {};
    }
    content.push({ type: 'tool_use', id: call.id ?? `toolu_fake_${reply.seq}_${n}`, name: call.name, input });
  });
  return {
    id: `msg_fake_${reply.seq}`,
    type: 'message',
    role: 'assistant',
    model: reply.model,
    content,
    stop_reason: STOP_REASONS[reply.stopReason],
    stop_sequence: null,
    usage: {
      input_tokens: reply.usage.input,
      cache_creation_input_tokens: reply.usage.cacheWrite,
      cache_read_input_tokens: reply.usage.cacheRead,
      output_tokens: reply.usage.output,
    },
  };
}

/** An error body as api.anthropic.com sends it for `status`. */
export function anthropicErrorBody(status: number, message: string | undefined, model: string): Record<string, unknown> {
  const [type, defaultMessage] = describeStatus(status, model);
  return { type: 'error', error: { type, message: message ?? defaultMessage }, request_id: 'req_fake' };
}

function describeStatus(status: number, model: string): [string, string] {
  switch (status) {
    case 400:
      return ['invalid_request_error', 'Invalid request.'];
    case 401:
      return ['authentication_error', 'invalid x-api-key'];
    case 403:
      return ['permission_error', 'Your API key does not have permission to use the specified resource.'];
    case 404:
      return ['not_found_error', `model: ${model}`];
    case 429:
      return ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'];
    case 529:
      return ['overloaded_error', 'Overloaded'];
    default:
      if (status >= 500) return ['api_error', 'Internal server error'];
      return ['invalid_request_error', `Request failed with status ${status}.`];
  }
}
