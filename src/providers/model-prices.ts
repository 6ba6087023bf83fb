/**
 * What a model's tokens cost: `provider.cost` from the config first, then a
 * small table of list-price estimates for well-known models. A model in
 * neither has an unknown price, which callers report as unknown, never as 0.
 */

import type { Usage, UsageCost } from '../messages/types.js';

/** USD per million tokens. Cache prices default to the input price when not given. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

/**
 * List-price estimates in USD per million tokens, for models whose id is
 * exactly one of these, or one of these plus a date suffix
 * (`claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`) or `-latest`.
 * README.md ("Usage and cost") shows this table; provider.cost overrides it.
 */
export const KNOWN_MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075 },
  'gpt-4.1': { input: 2, output: 8, cacheRead: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cacheRead: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cacheRead: 0.025 },
  'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cacheRead: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cacheRead: 0.005 },
  o3: { input: 2, output: 8, cacheRead: 0.5 },
  'o4-mini': { input: 1.1, output: 4.4, cacheRead: 0.275 },
  'claude-opus-4-1': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  'claude-opus-4-5': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
  'claude-sonnet-4': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-haiku-4-5': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 },
};

const TOKENS_PER_PRICE_UNIT = 1_000_000;
/** A date (`-20250929`, `-2024-08-06`) or `-latest` after a known id. */
const VERSION_SUFFIX = /^-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/;

/** Looks up prices; `configured` (provider.cost, keyed by model id) wins over the table. */
export class PriceBook {
  #configured: Readonly<Record<string, ModelPrice>>;

  constructor(configured: Readonly<Record<string, ModelPrice>> = {}) {
    this.#configured = configured;
  }

  /** Replace the configured prices (a config write changed provider.cost); later replies are priced with them. */
  setConfigured(configured: Readonly<Record<string, ModelPrice>>): void {
    this.#configured = configured;
  }

  /** The price of `model`, or undefined when unknown. */
  priceOf(model: string): ModelPrice | undefined {
    const own = this.#configured[model];
    if (own !== undefined) return own;
    return lookup(KNOWN_MODEL_PRICES, model);
  }

  /** USD cost of `usage` on `model`, or undefined when its price is unknown. */
  costOf(model: string, usage: Usage): UsageCost | undefined {
    const price = this.priceOf(model);
    return price === undefined ? undefined : costAt(price, usage);
  }
}

/** The cost of `usage` at `price`, per token kind and in total, USD. */
export function costAt(price: ModelPrice, usage: Usage): UsageCost {
  const part = (tokens: number | undefined, perMillion: number): number => ((tokens ?? 0) * perMillion) / TOKENS_PER_PRICE_UNIT;
  const input = part(usage.input, price.input);
  const output = part(usage.output, price.output);
  const cacheRead = part(usage.cacheRead, price.cacheRead ?? price.input);
  const cacheWrite = part(usage.cacheWrite, price.cacheWrite ?? price.input);
  return { input, output, cacheRead, cacheWrite, total: input + output + cacheRead + cacheWrite };
}

function lookup(table: Readonly<Record<string, ModelPrice>>, model: string): ModelPrice | undefined {
  // Routers name models `vendor/model` (OpenRouter: `openai/gpt-4o`).
  const id = model.includes('/') ? model.slice(model.lastIndexOf('/') + 1) : model;
  const exact = table[id];
  if (exact !== undefined) return exact;
  let best: string | undefined;
  for (const known of Object.keys(table)) {
    if (!id.startsWith(known) || !VERSION_SUFFIX.test(id.slice(known.length))) continue;
    if (best === undefined || known.length > best.length) best = known;
  }
  return best === undefined ? undefined : table[best];
}
