/**
 * Provider for any OpenAI-compatible Chat Completions endpoint (OpenAI,
 * Ollama, vLLM, LM Studio, OpenRouter) over the official `openai` SDK, which
 * is imported on the first call, not at start-up.
 */

import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import type { OpenAI } from 'openai';
import type { Usage } from '../sessions/types.js';
import type { ModelRequest, Provider, ProviderEvent } from './types.js';
import { DEFAULT_RETRY_BASE_DELAY_MS, ProviderFailure, driveStream } from './drive-stream.js';
import type { AttemptEvent } from './drive-stream.js';
import { buildChatCompletionRequest } from './openai-messages.js';
import type { MaxTokensField } from './openai-messages.js';
import { mapSdkError, redactUrl, unexpectedError } from './provider-errors.js';
import type { ErrorContext } from './provider-errors.js';
import { parseToolArguments } from './tool-arguments.js';

type OpenAIModule = typeof import('openai');
type ChatChunk = OpenAI.ChatCompletionChunk;

/** Endpoint used when no base URL is configured. */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** The SDK's own timeout sits behind ours, so ours (with its message) fires first, ms. */
const SDK_TIMEOUT_SLACK_MS = 1_000;
/** The SDK insists on a key; local servers (Ollama, LM Studio) need none, so none is sent. */
const KEYLESS_PLACEHOLDER = 'keyless';

export interface OpenAICompatibleOptions {
  /** Base URL including the version path, e.g. `http://127.0.0.1:11434/v1` (default OpenAI's). */
  baseUrl?: string;
  /** Sent as a Bearer token; omitted entirely when unset. */
  apiKey?: string;
  model: string;
  /** Longest wait for the response and for each next chunk, ms. */
  timeoutMs: number;
  /** Retries of 408/409/429/5xx/network failures that happen before any output. */
  maxRetries: number;
  /** First backoff step, doubled per retry, ms (default 500). */
  retryBaseDelayMs?: number;
}

let sdkLoading: Promise<OpenAIModule> | undefined;

function loadSdk(): Promise<OpenAIModule> {
  sdkLoading ??= import('openai').catch((err: unknown) => {
    sdkLoading = undefined;
    throw err;
  });
  return sdkLoading;
}

/** Streams Chat Completions with usage, reasoning deltas and tool calls. */
export class OpenAICompatibleProvider implements Provider {
  readonly name = 'openai';
  readonly model: string;
  #options: OpenAICompatibleOptions;
  #baseUrl: string;
  #errorContext: ErrorContext;
  #maxTokensField: MaxTokensField;
  #sdk: OpenAIModule | undefined;
  #client: OpenAI | undefined;

  constructor(options: OpenAICompatibleOptions) {
    this.model = options.model;
    this.#options = options;
    this.#baseUrl = (options.baseUrl || OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.#errorContext = { model: options.model, baseUrl: redactUrl(this.#baseUrl), timeoutMs: options.timeoutMs };
    this.#maxTokensField = isOpenAIHost(this.#baseUrl) ? 'max_completion_tokens' : 'max_tokens';
  }

  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ProviderEvent> {
    return driveStream({
      signal,
      timeoutMs: this.#options.timeoutMs,
      maxRetries: this.#options.maxRetries,
      retryBaseDelayMs: this.#options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS,
      errorContext: this.#errorContext,
      prepare: () => this.#prepare(),
      attempt: (attemptSignal) => this.#attempt(request, attemptSignal),
      mapError: (err) =>
        this.#sdk ? mapSdkError(err, this.#sdk, this.#errorContext) : { event: unexpectedError(err) },
    });
  }

  async *#attempt(request: ModelRequest, signal: AbortSignal): AsyncGenerator<AttemptEvent, void, undefined> {
    const client = this.#client;
    if (!client) throw new ProviderFailure(unexpectedError(new Error('client not prepared')));
    const body = buildChatCompletionRequest(this.model, request, this.#maxTokensField);
    const stream = await client.chat.completions.create(body, {
      signal,
      maxRetries: 0,
      timeout: this.#options.timeoutMs + SDK_TIMEOUT_SLACK_MS,
    });
    const reader = new ChunkReader();
    try {
      for await (const chunk of stream) {
        yield { type: 'progress' };
        yield* reader.read(chunk);
      }
    } catch (err) {
      // A connection lost after the finish reason (while the usage chunk was due) loses nothing.
      if (!reader.finished) throw err;
    }
    if (reader.finished) yield* reader.finish();
  }

  /** Load the SDK and build the client once, on the first call. */
  async #prepare(): Promise<void> {
    if (this.#client) return;
    this.#client = await this.#createClient();
  }

  async #createClient(): Promise<OpenAI> {
    let sdk: OpenAIModule;
    try {
      sdk = await loadSdk();
    } catch (err) {
      throw new ProviderFailure(unexpectedError(new Error(`cannot load the openai SDK: ${String(err)}`)));
    }
    this.#sdk = sdk;
    const keyless = !this.#options.apiKey;
    // Every option the SDK would otherwise read from the environment is given explicitly.
    return new sdk.OpenAI({
      apiKey: this.#options.apiKey || KEYLESS_PLACEHOLDER,
      baseURL: this.#baseUrl,
      organization: null,
      project: null,
      webhookSecret: null,
      maxRetries: 0,
      timeout: this.#options.timeoutMs + SDK_TIMEOUT_SLACK_MS,
      logLevel: 'off',
      defaultHeaders: keyless ? { Authorization: null } : undefined,
    });
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
class ChunkReader {
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
