/**
 * Provider for any OpenAI-compatible Chat Completions endpoint (OpenAI,
 * Ollama, vLLM, LM Studio, OpenRouter) over the official `openai` SDK, which
 * is imported on the first call, not at start-up.
 */

import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import type { OpenAI } from 'openai';
import type { Usage } from '../messages/types.js';
import type { ModelRequest, Provider, ProviderEvent, ProviderOptions } from './types.js';
import { buildChatCompletionRequest } from './openai-messages.js';
import type { MaxTokensField } from './openai-messages.js';
import { SdkClient, lazyImport } from './sdk-client.js';
import type { StreamReader } from './sdk-client.js';
import { parseToolArguments } from './tool-arguments.js';

type OpenAIModule = typeof import('openai');
type ChatChunk = OpenAI.ChatCompletionChunk;

/** Endpoint used when no base URL is configured. */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

const loadSdk = lazyImport((): Promise<OpenAIModule> => import('openai'));

/** Streams Chat Completions with usage, reasoning deltas and tool calls. */
export class OpenAICompatibleProvider implements Provider {
  readonly name = 'openai';
  readonly model: string;
  #client: SdkClient<OpenAIModule, OpenAI>;
  #maxTokensField: MaxTokensField;

  /** `options.baseUrl` includes the version path, e.g. `http://127.0.0.1:11434/v1`; `apiKey` is sent as a Bearer token. */
  constructor(options: ProviderOptions) {
    this.model = options.model;
    const baseUrl = (options.baseUrl || OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.#maxTokensField = isOpenAIHost(baseUrl) ? 'max_completion_tokens' : 'max_tokens';
    this.#client = new SdkClient({
      options,
      baseUrl,
      sdkLabel: 'openai',
      loadSdk,
      // Every option the SDK would otherwise read from the environment is given explicitly.
      createClient: (sdk, base, keyless) =>
        new sdk.OpenAI({
          ...base,
          organization: null,
          project: null,
          webhookSecret: null,
          defaultHeaders: keyless ? { Authorization: null } : undefined,
        }),
    });
  }

  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ProviderEvent> {
    return this.#client.stream(
      {
        open: (client, requestOptions) =>
          client.chat.completions.create(buildChatCompletionRequest(this.model, request, this.#maxTokensField), requestOptions),
        createReader: () => new ChunkReader(),
      },
      signal,
    );
  }
}

interface PendingToolCall {
  id: string;
  name: string;
  rawArguments: string;
}

const ReasoningDeltaSchema = v.looseObject({
  reasoning_content: v.optional(v.unknown()),
  reasoning: v.optional(v.unknown()),
});

/** Translates chunks of one stream; tool calls are emitted once complete. */
class ChunkReader implements StreamReader<ChatChunk> {
  /** Set by the finish reason; the usage chunk may still follow. */
  finished = false;
  #finishReason: 'stop' | 'length' | 'toolUse' = 'stop';
  #usage: Usage | undefined;
  #toolCalls: PendingToolCall[] = [];
  #byIndex = new Map<number, PendingToolCall>();

  *read(chunk: ChatChunk): Generator<ProviderEvent, void, undefined> {
    if (chunk.usage) this.#usage = toUsage(chunk.usage);
    const choice = chunk.choices?.[0];
    if (!choice) return;
    const delta = choice.delta;
    if (delta) {
      const reasoning = readReasoning(delta);
      if (reasoning) yield { type: 'thinking', delta: reasoning };
      if (typeof delta.content === 'string' && delta.content !== '') yield { type: 'text', delta: delta.content };
      if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) this.#addToolCallDelta(call);
    }
    if (choice.finish_reason) {
      this.finished = true;
      this.#finishReason = toStopReason(choice.finish_reason);
    }
  }

  *finish(): Generator<ProviderEvent, void, undefined> {
    for (const call of this.#toolCalls) {
      const id = call.id || `call_${randomUUID()}`;
      const args = parseToolArguments(call.rawArguments);
      yield { type: 'toolCall', id, name: call.name, arguments: args, rawArguments: call.rawArguments };
    }
    if (this.#usage) yield { type: 'usage', usage: this.#usage };
    // Some servers (older Ollama) say `stop` after tool calls.
    const stopReason = this.#toolCalls.length > 0 && this.#finishReason === 'stop' ? 'toolUse' : this.#finishReason;
    yield { type: 'done', stopReason };
  }

  #addToolCallDelta(delta: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall): void {
    const index = typeof delta.index === 'number' ? delta.index : this.#toolCalls.length;
    let call = this.#byIndex.get(index);
    // A different id at a known index is a new call (servers that send every call as index 0).
    if (call && delta.id && call.id && delta.id !== call.id) call = undefined;
    if (!call) {
      call = { id: '', name: '', rawArguments: '' };
      this.#toolCalls.push(call);
      this.#byIndex.set(index, call);
    }
    if (delta.id && !call.id) call.id = delta.id;
    const fn = delta.function;
    if (fn?.name && !call.name) call.name = fn.name;
    const fragment: unknown = fn?.arguments;
    if (typeof fragment === 'string') call.rawArguments += fragment;
    else if (fragment !== undefined && fragment !== null) call.rawArguments += JSON.stringify(fragment);
  }
}

/** Reasoning text under the field vLLM/DeepSeek (`reasoning_content`) or Ollama/OpenRouter (`reasoning`) use. */
function readReasoning(delta: unknown): string | undefined {
  const parsed = v.safeParse(ReasoningDeltaSchema, delta);
  if (!parsed.success) return undefined;
  // Servers that send both carry the same text twice; take one.
  for (const text of [parsed.output.reasoning_content, parsed.output.reasoning]) {
    if (typeof text === 'string' && text !== '') return text;
  }
  return undefined;
}

function toStopReason(reason: string): 'stop' | 'length' | 'toolUse' {
  if (reason === 'length') return 'length';
  if (reason === 'tool_calls' || reason === 'function_call') return 'toolUse';
  return 'stop';
}

function toUsage(raw: OpenAI.CompletionUsage): Usage {
  const prompt = raw.prompt_tokens ?? 0;
  const completion = raw.completion_tokens ?? 0;
  const cached = raw.prompt_tokens_details?.cached_tokens ?? 0;
  // Our `input` excludes cache reads, as Anthropic reports it.
  const usage: Usage = { input: prompt - cached, output: completion, totalTokens: raw.total_tokens ?? prompt + completion };
  if (cached > 0) usage.cacheRead = cached;
  return usage;
}

function isOpenAIHost(baseUrl: string): boolean {
  try {
    return new URL(baseUrl).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}
