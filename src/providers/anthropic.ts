/**
 * Provider for the Anthropic Messages API over the official
 * `@anthropic-ai/sdk`, which is imported on the first call, not at start-up.
 */

import type { Anthropic } from '@anthropic-ai/sdk';
import type { Usage } from '../messages/types.js';
import type { ModelRequest, Provider, ProviderEvent, ProviderOptions } from './types.js';
import { buildMessagesRequest } from './anthropic-messages.js';
import { SdkClient, lazyImport } from './sdk-client.js';
import type { StreamReader } from './sdk-client.js';
import { parseToolArguments } from './tool-arguments.js';

type AnthropicModule = typeof import('@anthropic-ai/sdk');
type StreamEvent = Anthropic.RawMessageStreamEvent;

/** Endpoint used when no base URL is configured. */
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

const loadSdk = lazyImport((): Promise<AnthropicModule> => import('@anthropic-ai/sdk'));

/** Streams Messages API replies: text, thinking, tool_use blocks and usage. */
export class AnthropicProvider implements Provider {
  readonly name = 'anthropic';
  readonly model: string;
  #client: SdkClient<AnthropicModule, Anthropic>;

  /** `options.baseUrl` is without the `/v1` path, e.g. `https://api.anthropic.com` (a trailing `/v1` is dropped). */
  constructor(options: ProviderOptions) {
    this.model = options.model;
    this.#client = new SdkClient({
      options,
      // The SDK appends `/v1/messages` itself.
      baseUrl: (options.baseUrl || ANTHROPIC_DEFAULT_BASE_URL).replace(/\/+$/, '').replace(/\/v1$/, ''),
      sdkLabel: 'Anthropic',
      loadSdk,
      // Every credential and setting the SDK would otherwise read from the
      // environment or its profile files is given explicitly.
      createClient: (sdk, base, keyless) =>
        new sdk.Anthropic({
          ...base,
          authToken: null,
          webhookKey: null,
          defaultHeaders: keyless ? { Authorization: null, 'X-Api-Key': null } : undefined,
        }),
    });
  }

  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ProviderEvent> {
    return this.#client.stream(
      {
        open: (client, requestOptions) => client.messages.create(buildMessagesRequest(this.model, request), requestOptions),
        createReader: () => new EventReader(),
      },
      signal,
    );
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
class EventReader implements StreamReader<StreamEvent> {
  /** Set by message_stop. */
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
