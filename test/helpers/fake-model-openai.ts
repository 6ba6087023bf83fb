/**
 * OpenAI Chat Completions wire format for the fake model server: stream
 * chunks, the non-streaming body and error bodies, shaped like api.openai.com.
 */

import { ARGUMENT_FRAGMENT_CHARS, FAKE_CREATED_S, splitFragments, sse } from './fake-model-types.js';
import type { ResolvedReply, SseFrame } from './fake-model-types.js';

const FINISH_REASONS = { stop: 'stop', length: 'length', toolUse: 'tool_calls' } as const;

/** The SSE events of a streamed reply, ending with `data: [DONE]`. */
export function openAIStreamFrames(reply: ResolvedReply): SseFrame[] {
  const id = `chatcmpl-fake-${reply.seq}`;
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): string =>
    sse({
      id,
      object: 'chat.completion.chunk',
      created: FAKE_CREATED_S,
      model: reply.model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  const frames: SseFrame[] = [{ text: chunk({ role: 'assistant', content: '', refusal: null }), content: false }];
  for (const piece of reply.thinkingChunks) {
    frames.push({ text: chunk({ [reply.reasoningField]: piece }), content: true });
  }
  for (const piece of reply.textChunks) frames.push({ text: chunk({ content: piece }), content: true });
  reply.toolCalls.forEach((call, index) => {
    const callId = call.id ?? `call_fake_${reply.seq}_${index}`;
    frames.push({
      text: chunk({ tool_calls: [{ index, id: callId, type: 'function', function: { name: call.name, arguments: '' } }] }),
      content: true,
    });
    for (const fragment of splitFragments(call.json, ARGUMENT_FRAGMENT_CHARS)) {
      frames.push({ text: chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }), content: true });
    }
  });
  if (reply.streamError !== undefined) {
    // OpenRouter and others report mid-stream failures as a chunk with `error`.
    frames.push({ text: sse({ error: { message: reply.streamError, type: 'server_error', code: null } }), content: false });
    return frames;
  }
  frames.push({ text: chunk({}, FINISH_REASONS[reply.stopReason]), content: false });
  if (reply.includeUsage) {
    frames.push({
      text: sse({
        id,
        object: 'chat.completion.chunk',
        created: FAKE_CREATED_S,
        model: reply.model,
        system_fingerprint: 'fp_fake',
        choices: [],
        usage: usageBody(reply),
      }),
      content: false,
    });
  }
  frames.push({ text: sse('[DONE]'), content: false });
  return frames;
}

/** The body of a non-streaming `chat.completion`. */
export function openAICompletionBody(reply: ResolvedReply): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: reply.textChunks.join('') || null, refusal: null };
  if (reply.thinkingChunks.length > 0) message[reply.reasoningField] = reply.thinkingChunks.join('');
  if (reply.toolCalls.length > 0) {
    message.tool_calls = reply.toolCalls.map((call, index) => ({
      id: call.id ?? `call_fake_${reply.seq}_${index}`,
      type: 'function',
      function: { name: call.name, arguments: call.json },
    }));
  }
  return {
    id: `chatcmpl-fake-${reply.seq}`,
    object: 'chat.completion',
    created: FAKE_CREATED_S,
    model: reply.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH_REASONS[reply.stopReason] }],
    usage: usageBody(reply),
  };
}

/** An error body as api.openai.com sends it for `status`. */
export function openAIErrorBody(status: number, message: string | undefined, model: string): Record<string, unknown> {
  const [defaultMessage, type, code] = describeStatus(status, model);
  return { error: { message: message ?? defaultMessage, type, param: null, code } };
}

function describeStatus(status: number, model: string): [string, string, string | null] {
  switch (status) {
    case 400:
      return ['Invalid request.', 'invalid_request_error', null];
    case 401:
      return ['Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'];
    case 404:
      return [`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'];
    case 429:
      return ['Rate limit reached for requests. Please try again later.', 'requests', 'rate_limit_exceeded'];
    default:
      if (status >= 500) return ['The server had an error while processing your request. Sorry about that!', 'server_error', null];
      return [`Request failed with status ${status}.`, 'invalid_request_error', null];
  }
}

function usageBody(reply: ResolvedReply): Record<string, unknown> {
  const prompt = reply.usage.input + reply.usage.cacheRead;
  return {
    prompt_tokens: prompt,
    completion_tokens: reply.usage.output,
    total_tokens: prompt + reply.usage.output,
    prompt_tokens_details: { cached_tokens: reply.usage.cacheRead, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}
