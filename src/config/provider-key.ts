/**
 * Whether the configured provider lacks the API key it needs. A hosted API
 * (OpenAI, Anthropic, OpenRouter, any public address) refuses every call
 * without one, which a new user otherwise learns only from the first chat's
 * error. A server on this machine or the local network (Ollama, vLLM, LM
 * Studio) usually needs none, so it is not reported.
 */

import { isIP } from 'node:net';
import type { PincerConfig } from './schema.js';

const KEY_VARIABLES = { openai: 'PINCER_API_KEY or OPENAI_API_KEY', anthropic: 'PINCER_API_KEY or ANTHROPIC_API_KEY' } as const;

/** One sentence naming the provider and where to put a key, or undefined when nothing is missing. */
export function describeMissingProviderKey(config: PincerConfig): string | undefined {
  const provider = config.provider;
  if (provider === undefined || provider.apiKey !== undefined) return undefined;
  if (provider.baseUrl !== undefined && isLocalUrl(provider.baseUrl)) return undefined;
  const where = provider.baseUrl ?? (provider.kind === 'anthropic' ? 'the Anthropic API' : 'the OpenAI API');
  return `provider ${provider.kind} (${where}) has no API key: set ${KEY_VARIABLES[provider.kind]}, or provider.apiKey in ${config.configPath}`;
}

/** Loopback, private and link-local addresses, `localhost`, `*.local` and single-label names (Docker services). */
function isLocalUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) return true;
  const family = isIP(host);
  if (family === 0) return !host.includes('.');
  if (family === 6) return host === '::1' || /^f[cd]/.test(host) || host.startsWith('fe80:');
  const [a, b] = host.split('.').map(Number);
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
}
