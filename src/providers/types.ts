/**
 * The one interface every model provider implements: stream one model call.
 *
 * Contract: `stream()` never throws and its iterator never rejects. Failures
 * (bad key, unknown model, network, mid-stream cut, timeout) arrive as a final
 * `{ type: 'error' }` event with a readable message; an aborted signal ends the
 * stream with `{ type: 'aborted' }`. Exactly one of `done`, `error`, `aborted`
 * is the last event. Text and thinking deltas arrive in order. A provider
 * that chooses among several models (failover) sends `model` before any other
 * event of the call, naming the model that answers; without it the answer is
 * from `provider.name` / `provider.model`.
 */

import type { ContentBlock, Usage } from '../messages/types.js';

/** A message in provider-neutral form, as the loop builds context. */
export type ModelMessage =
  | { role: 'user'; content: ContentBlock[] }
  | { role: 'assistant'; content: ContentBlock[] }
  | { role: 'toolResult'; toolCallId: string; toolName: string; content: ContentBlock[]; isError: boolean };

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ModelRequest {
  systemPrompt?: string;
  messages: ModelMessage[];
  tools?: ToolSpec[];
  /** Reasoning effort hint; providers that lack it ignore it. */
  thinking?: 'low' | 'medium' | 'high';
  maxOutputTokens?: number;
}

export type ProviderEvent =
  | { type: 'text'; delta: string }
  | { type: 'thinking'; delta: string }
  | { type: 'toolCall'; id: string; name: string; arguments: Record<string, unknown> | null; rawArguments: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'done'; stopReason: 'stop' | 'length' | 'toolUse' }
  | { type: 'model'; provider: string; model: string; failedOver?: FailedModelCall[] }
  | {
      type: 'error';
      message: string;
      status?: number;
      retryable: boolean;
      /** How long the provider asked us to wait before calling again (Retry-After), ms. */
      retryAfterMs?: number;
      /** The endpoint refused the request itself (HTTP 400/413/422): another model would refuse it too. */
      requestRejected?: boolean;
    }
  | { type: 'aborted' };

/** A model call that failed before the answering model took over. */
export interface FailedModelCall {
  provider: string;
  model: string;
  error: string;
  status?: number;
}

export interface Provider {
  /** `openai` or `anthropic`. */
  readonly name: string;
  /** Model id sent to the endpoint. */
  readonly model: string;
  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ProviderEvent>;
}

/** What an SDK-backed provider is built from. */
export interface ProviderOptions {
  /** Endpoint base URL; each provider states the form it expects (default the vendor's). */
  baseUrl?: string;
  /** Sent as the provider's credential; no credential header at all when unset. */
  apiKey?: string;
  model: string;
  /** Longest wait for the response and for each next chunk, ms. */
  timeoutMs: number;
  /** Retries of 408/409/429/5xx/network failures that happen before any output. */
  maxRetries: number;
  /** First backoff step, doubled per retry, ms (default 500). */
  retryBaseDelayMs?: number;
}

/** Where one model is served. */
export interface ModelEndpoint {
  kind: 'openai' | 'anthropic';
  baseUrl?: string;
  apiKey?: string;
  model: string;
}

export interface ProviderConfig extends ModelEndpoint {
  /** Per-request timeout, ms (default 120000). */
  timeoutMs: number;
  /** Retries on 429/5xx/network before the first byte (default 2). */
  maxRetries: number;
  /** Further models tried in order when the one before fails (provider.fallbacks). */
  fallbacks?: readonly ModelEndpoint[];
  /** Further models only agents and sessions choose; the default chain never tries them (provider.models). */
  models?: readonly ModelEndpoint[];
}
