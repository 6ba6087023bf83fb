import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KNOWN_MODEL_PRICES, PriceBook, costAt } from '../../src/providers/model-prices.js';

describe('PriceBook', () => {
  const book = new PriceBook({ 'llama3.2': { input: 0, output: 0 }, 'gpt-4o': { input: 5, output: 15 } });

  it('finds well-known models by id, with a date or -latest suffix, or behind a router prefix', () => {
    assert.deepEqual(book.priceOf('claude-sonnet-4-5-20250929'), KNOWN_MODEL_PRICES['claude-sonnet-4-5']);
    assert.deepEqual(book.priceOf('gpt-4o-mini-2024-07-18'), KNOWN_MODEL_PRICES['gpt-4o-mini']);
    assert.deepEqual(book.priceOf('openai/gpt-4.1-nano'), KNOWN_MODEL_PRICES['gpt-4.1-nano']);
    assert.deepEqual(book.priceOf('claude-haiku-4-5-latest'), KNOWN_MODEL_PRICES['claude-haiku-4-5']);
  });

  it('does not guess: a variant that is not a dated release has an unknown price', () => {
    assert.equal(book.priceOf('gpt-4o-audio-preview'), undefined);
    assert.equal(book.priceOf('mystery-model'), undefined);
    assert.equal(book.costOf('mystery-model', { input: 10, output: 10, totalTokens: 20 }), undefined);
  });

  it('lets provider.cost override the table, and a configured 0 is a known free model', () => {
    assert.deepEqual(book.priceOf('gpt-4o'), { input: 5, output: 15 });
    assert.deepEqual(book.costOf('llama3.2', { input: 1_000, output: 1_000, totalTokens: 2_000 }), {
      input: 0,
      output: 0,
      cacheRead: 0,
      cacheWrite: 0,
      total: 0,
    });
  });

  it('prices each token kind per million, cache tokens at the input price unless given', () => {
    const cost = costAt({ input: 3, output: 15, cacheRead: 0.3 }, { input: 1_000_000, output: 2_000_000, cacheRead: 1_000_000, cacheWrite: 1_000_000, totalTokens: 0 });
    assert.deepEqual(cost, { input: 3, output: 30, cacheRead: 0.3, cacheWrite: 3, total: 36.3 });
  });
});
