/**
 * Provider for the Anthropic Messages API over the official
 * `@anthropic-ai/sdk`, which is imported on the first call, not at start-up.
 */

import type { Anthropic } from '@anthropic-ai/sdk';
import type { Usage } from '../sessions/types.js';
import type { ModelRequest, Provider, ProviderEvent } from './types.js';
import { buildMessagesRequest } from './anthropic-messages.js';
import { DEFAULT_RETRY_BASE_DELAY_MS, ProviderFailure, driveStream } from './drive-stream.js';
import type { AttemptEvent } from './drive-stream.js';
import { mapSdkError, redactUrl, unexpectedError } from './provider-errors.js';
import type { ErrorContext } from './provider-errors.js';
import { parseToolArguments } from './tool-arguments.js';

type AnthropicModule = typeof import('@anthropic-ai/sdk');
type StreamEvent = Anthropic.RawMessageStreamEvent;

/** Endpoint used when no base URL is configured. */
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** The SDK's own timeout sits behind ours, so ours (with its message) fires first, ms. */
const SDK_TIMEOUT_SLACK_MS = 1_000;
/** The SDK insists on a credential; with none configured none is sent and the endpoint answers 401. */
const KEYLESS_PLACEHOLDER = 'keyless';

export interface AnthropicOptions {
  /** Base URL without the `/v1` path, e.g. `https://api.anthropic.com` (a trailing `/v1` is dropped). */
  baseUrl?: string;
  apiKey?: string;
  model: string;
  /** Longest wait for the response and for each next chunk, ms. */
  timeoutMs: number;
  /** Retries of 408/409/429/5xx/network failures that happen before any output. */
  maxRetries: number;
  /** First backoff step, doubled per retry, ms (default 500). */
  retryBaseDelayMs?: number;
}

let sdkLoading: Promise<AnthropicModule> | undefined;

function loadSdk(): Promise<AnthropicModule> {
  sdkLoading ??= import('@anthropic-ai/sdk').catch((err: unknown) => {
    sdkLoading = undefined;
    throw err;
  });
  return sdkLoading;
}

/** Streams Messages API replies: text, thinking, tool_use blocks and usage. */
export class AnthropicProvider implements Provider {
  readonly name = 'anthropic';
  readonly model: string;
  #options: AnthropicOptions;
  #baseUrl: string;
  #errorContext: ErrorContext;
  #sdk: AnthropicModule | undefined;
  #client: Anthropic | undefined;

  constructor(options: AnthropicOptions) {
    this.model = options.model;
    this.#options = options;
    // The SDK appends `/v1/messages` itself.
    this.#baseUrl = (options.baseUrl || ANTHROPIC_DEFAULT_BASE_URL).replace(/\/+$/, '').replace(/\/v1$/, '');
    this.#errorContext = { model: options.model, baseUrl: redactUrl(this.#baseUrl), timeoutMs: options.timeoutMs };
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
    const stream = await client.messages.create(buildMessagesRequest(this.model, request), {
      signal,
      maxRetries: 0,
      timeout: this.#options.timeoutMs + SDK_TIMEOUT_SLACK_MS,
    });
    const reader = new EventReader();
    try {
      for await (const event of stream) {
        yield { type: 'progress' };
        yield* reader.read(event);
      }
    } catch (err) {
      // A connection lost after message_stop loses nothing.
      if (!reader.finished) throw err;
    }
    if (reader.finished) yield* reader.finish();
  }

  /** Load the SDK and build the client once, on the first call. */
  async #prepare(): Promise<void> {
    if (this.#client) return;
    this.#client = await this.#createClient();
  }

  async #createClient(): Promise<Anthropic> {
    let sdk: AnthropicModule;
    try {
      sdk = await loadSdk();
    } catch (err) {
      throw new ProviderFailure(unexpectedError(new Error(`cannot load the Anthropic SDK: ${String(err)}`)));
    }
    this.#sdk = sdk;
    const keyless = !this.#options.apiKey;
    // Every credential and setting the SDK would otherwise read from the
    // environment or its profile files is given explicitly.
    return new sdk.Anthropic({
      apiKey: this.#options.apiKey || KEYLESS_PLACEHOLDER,
      authToken: null,
      webhookKey: null,
      baseURL: this.#baseUrl,
      maxRetries: 0,
      timeout: this.#options.timeoutMs + SDK_TIMEOUT_SLACK_MS,
      logLevel: 'off',
      defaultHeaders: keyless ? { Authorization: null, 'X-Api-Key': null } : undefined,
    });
  }
}

interface PendingToolUse {
  id: string;
  name: string;
  rawArguments: string;
  /** `input` of content_block_start; used when no input_json_delta follows. */
  initialInput: unknown;
}

/** Translates the events of one stream; a tool call is emitted when its block stops. */
class EventReader {
  finished = false;
  #stopReason: 'stop' | 'length' | 'toolUse' = 'stop';
  #input = 0;
  #output = 0;
  #cacheRead = 0;
  #cacheWrite = 0;
  #sawUsage = false;
  #toolUses = new Map<number, PendingToolUse>();

  *read(event: StreamEvent): Generator<ProviderEvent, void, undefined> {
    switch (event.type) {
      case 'message_start':
        this.#addUsage(event.message.usage);
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'tool_use') {
          this.#toolUses.set(event.index, { id: block.id, name: block.name, rawArguments: '', initialInput: block.input });
        } else if (block.type === 'text' && block.text) {
          yield { type: 'text', delta: block.text };
        } else if (block.type === 'thinking' && block.thinking) {
          yield { type: 'thinking', delta: block.thinking };
        }
        break;
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (delta.type === 'text_delta' && delta.text) yield { type: 'text', delta: delta.text };
        else if (delta.type === 'thinking_delta' && delta.thinking) yield { type: 'thinking', delta: delta.thinking };
        else if (delta.type === 'input_json_delta') {
          const pending = this.#toolUses.get(event.index);
          if (pending) pending.rawArguments += delta.partial_json;
        }
        break;
      }
      case 'content_block_stop': {
        const pending = this.#toolUses.get(event.index);
        if (pending) {
          this.#toolUses.delete(event.index);
          yield toToolCall(pending);
        }
        break;
      }
      case 'message_delta':
        if (event.delta.stop_reason) this.#stopReason = toStopReason(event.delta.stop_reason);
        this.#addUsage(event.usage);
        break;
      case 'message_stop':
        this.finished = true;
        break;
    }
  }

  *finish(): Generator<ProviderEvent, void, undefined> {
    if (this.#sawUsage) {
      const usage: Usage = {
        input: this.#input,
        output: this.#output,
        totalTokens: this.#input + this.#output + this.#cacheRead + this.#cacheWrite,
      };
      if (this.#cacheRead > 0) usage.cacheRead = this.#cacheRead;
      if (this.#cacheWrite > 0) usage.cacheWrite = this.#cacheWrite;
      yield { type: 'usage', usage };
    }
    yield { type: 'done', stopReason: this.#stopReason };
  }

  /** message_start carries input counts; message_delta carries the final (cumulative) output count. */
  #addUsage(usage: Partial<Anthropic.MessageDeltaUsage> | undefined): void {
    if (!usage) return;
    this.#sawUsage = true;
    if (typeof usage.input_tokens === 'number') this.#input = usage.input_tokens;
    if (typeof usage.output_tokens === 'number') this.#output = usage.output_tokens;
    if (typeof usage.cache_read_input_tokens === 'number') this.#cacheRead = usage.cache_read_input_tokens;
    if (typeof usage.cache_creation_input_tokens === 'number') this.#cacheWrite = usage.cache_creation_input_tokens;
  }
}

function toToolCall(pending: PendingToolUse): ProviderEvent {
  let raw = pending.rawArguments;
  if (raw === '' && pending.initialInput !== undefined) raw = JSON.stringify(pending.initialInput) ?? '';
  return { type: 'toolCall', id: pending.id, name: pending.name, arguments: parseToolArguments(raw), rawArguments: raw };
}

function toStopReason(reason: Anthropic.StopReason): 'stop' | 'length' | 'toolUse' {
  if (reason === 'tool_use') return 'toolUse';
  if (reason === 'max_tokens' || reason === 'model_context_window_exceeded') return 'length';
  return 'stop';
}
