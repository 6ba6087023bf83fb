/**
 * Chooses the provider implementation for a config. Importing this module
 * loads no SDK: each provider imports its SDK on its first call.
 */

import type { ModelEndpoint, Provider, ProviderConfig } from './types.js';
import { ANTHROPIC_DEFAULT_BASE_URL, AnthropicProvider } from './anthropic.js';
import { FailoverProvider } from './failover-provider.js';
import type { ModelCooldowns } from './model-cooldowns.js';
import { OPENAI_DEFAULT_BASE_URL, OpenAICompatibleProvider } from './openai-compatible.js';
import { redactUrl } from './provider-errors.js';

/** Knobs that are not user config; tests shorten the backoff with them. */
export interface ProviderTuning {
  /** First retry backoff step, doubled per retry, ms (default 500). */
  retryBaseDelayMs?: number;
}

/**
 * The provider for a whole chain: `config` first, then each of its
 * fallbacks (same timeout and retries). Without fallbacks it is the plain
 * provider, so a single model never cools down between turns.
 */
export function createModelChain(config: ProviderConfig, cooldowns: ModelCooldowns, tuning: ProviderTuning = {}): Provider {
  const primary = createProvider(config, tuning);
  const fallbacks = config.fallbacks ?? [];
  if (fallbacks.length === 0) return primary;
  const chain = [{ provider: primary, key: modelKey(config) }];
  for (const fallback of fallbacks) {
    const endpoint = { ...fallback, timeoutMs: config.timeoutMs, maxRetries: config.maxRetries };
    chain.push({ provider: createProvider(endpoint, tuning), key: modelKey(endpoint) });
  }
  return new FailoverProvider(chain, cooldowns);
}

/** Identity of a model on its endpoint, for cooldowns: `openai/gpt-4o@https://api.openai.com/v1`. */
export function modelKey(endpoint: ModelEndpoint): string {
  return `${endpoint.kind}/${endpoint.model}@${redactUrl(endpoint.baseUrl || defaultBaseUrl(endpoint.kind))}`;
}

function defaultBaseUrl(kind: string): string {
  return kind === 'anthropic' ? ANTHROPIC_DEFAULT_BASE_URL : OPENAI_DEFAULT_BASE_URL;
}

/** Build the provider for `config.kind`. Throws on an unknown kind or an empty model (a config bug). */
export function createProvider(config: ProviderConfig, tuning: ProviderTuning = {}): Provider {
  if (!config.model) throw new Error('provider.model is required (set PINCER_MODEL or provider.model in config.json)');
  const options = {
    baseUrl: config.baseUrl,
    apiKey: config.apiKey,
    model: config.model,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    retryBaseDelayMs: tuning.retryBaseDelayMs,
  };
  switch (config.kind) {
    case 'openai':
      return new OpenAICompatibleProvider(options);
    case 'anthropic':
      return new AnthropicProvider(options);
    default:
      throw new Error(`unknown provider.kind ${JSON.stringify(config.kind)}: expected "openai" or "anthropic"`);
  }
}

/** One line for logs and `pincer doctor`, without the API key: `openai gpt-4o at https://api.openai.com/v1 (API key set)`. */
export function describeProvider(config: ModelEndpoint): string {
  const key = config.apiKey ? 'API key set' : 'no API key';
  return `${config.kind} ${config.model} at ${redactUrl(config.baseUrl || defaultBaseUrl(config.kind))} (${key})`;
}
