/**
 * Chooses the provider implementation for a config. Importing this module
 * loads no SDK: each provider imports its SDK on its first call.
 */

import type { Provider, ProviderConfig } from './types.js';
import { ANTHROPIC_DEFAULT_BASE_URL, AnthropicProvider } from './anthropic.js';
import { OPENAI_DEFAULT_BASE_URL, OpenAICompatibleProvider } from './openai-compatible.js';
import { redactUrl } from './provider-errors.js';

/** Knobs that are not user config; tests shorten the backoff with them. */
export interface ProviderTuning {
  /** First retry backoff step, doubled per retry, ms (default 500). */
  retryBaseDelayMs?: number;
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
export function describeProvider(config: ProviderConfig): string {
  const fallback = config.kind === 'anthropic' ? ANTHROPIC_DEFAULT_BASE_URL : OPENAI_DEFAULT_BASE_URL;
  const key = config.apiKey ? 'API key set' : 'no API key';
  return `${config.kind} ${config.model} at ${redactUrl(config.baseUrl || fallback)} (${key})`;
}
