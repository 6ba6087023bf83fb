/**
 * The configured models (provider.model, provider.fallbacks, then
 * provider.models) by their reference `kind/model`: the default chain, the
 * chains agents name, and one strict provider per model for sessions that
 * chose it (sessions.patch).
 * A chosen model is strict, as in OpenClaw: when it fails the turn reports
 * the failure instead of answering from another model.
 */

import { createModelChain, createProvider, modelKey, type ProviderTuning } from './create-provider.js';
import { FailoverProvider } from './failover-provider.js';
import type { ModelCooldowns } from './model-cooldowns.js';
import type { ModelEndpoint, Provider, ProviderConfig } from './types.js';

/** One configured model. */
export interface CatalogModel {
  /** `kind/model`, what sessions.patch stores. */
  ref: string;
  kind: ModelEndpoint['kind'];
  model: string;
  /** Its key in the cooldown book. */
  cooldownKey: string;
  /** The first model of the chain. */
  primary: boolean;
}

export class ModelCatalog {
  readonly #config: ProviderConfig | undefined;
  readonly #tuning: ProviderTuning;
  readonly #models: CatalogModel[] = [];
  readonly #endpoints = new Map<string, ProviderConfig>();
  readonly #strict = new Map<string, Provider>();
  readonly #chains = new Map<string, Provider>();
  readonly #cooldowns: ModelCooldowns;
  readonly #chain: Provider | undefined;

  /** `config` undefined: no provider configured, an empty catalog. */
  constructor(config: ProviderConfig | undefined, cooldowns: ModelCooldowns, tuning: ProviderTuning = {}) {
    this.#config = config;
    this.#tuning = tuning;
    this.#cooldowns = cooldowns;
    if (config === undefined) return;
    this.#chain = createModelChain(config, cooldowns, tuning);
    const endpoints: ModelEndpoint[] = [config, ...(config.fallbacks ?? []), ...(config.models ?? [])];
    endpoints.forEach((endpoint, index) => {
      const ref = `${endpoint.kind}/${endpoint.model}`;
      // The same model twice (e.g. on two servers): the first one is the one a session can choose.
      if (this.#endpoints.has(ref)) return;
      const { kind, model, baseUrl, apiKey } = endpoint;
      this.#endpoints.set(ref, { kind, model, baseUrl, apiKey, timeoutMs: config.timeoutMs, maxRetries: config.maxRetries });
      this.#models.push({ ref, kind, model, cooldownKey: modelKey(endpoint), primary: index === 0 });
    });
  }

  /** Every configured model, in chain order. */
  list(): readonly CatalogModel[] {
    return this.#models;
  }

  /** A model by `kind/model`, or by bare model id when only one kind serves it. */
  find(reference: string): CatalogModel | undefined {
    const wanted = reference.trim();
    const exact = this.#models.find((entry) => entry.ref === wanted);
    if (exact !== undefined) return exact;
    const byId = this.#models.filter((entry) => entry.model === wanted);
    return byId.length === 1 ? byId[0] : undefined;
  }

  /** The chain (provider.model, then its fallbacks); undefined without a provider. */
  defaultProvider(): Provider | undefined {
    return this.#chain;
  }

  /**
   * The chain of `primary` then `fallbacks` (references), as an agent names
   * it; cooldowns are shared with every other chain. Undefined when the
   * primary is not configured; fallbacks that are not are left out.
   */
  chainFor(primary: string, fallbacks: readonly string[] = []): Provider | undefined {
    const first = this.find(primary);
    if (first === undefined) return undefined;
    const rest = fallbacks.map((ref) => this.find(ref)).filter((entry): entry is CatalogModel => entry !== undefined);
    const key = [first, ...rest].map((entry) => entry.ref).join('\n');
    let chain = this.#chains.get(key);
    if (chain === undefined) {
      const links = [first, ...rest].map((entry) => ({ provider: this.#plain(entry), key: entry.cooldownKey }));
      chain = links.length === 1 ? links[0].provider : new FailoverProvider(links, this.#cooldowns);
      this.#chains.set(key, chain);
    }
    return chain;
  }

  /** The strict provider of a chosen model; undefined when the reference is not configured (any more). */
  providerFor(reference: string): Provider | undefined {
    const entry = this.find(reference);
    if (entry === undefined || this.#config === undefined) return undefined;
    return this.#plain(entry);
  }

  /** One model on its own, built once. */
  #plain(entry: CatalogModel): Provider {
    let provider = this.#strict.get(entry.ref);
    if (provider === undefined) {
      const endpoint = this.#endpoints.get(entry.ref) as ProviderConfig;
      provider = createProvider(endpoint, this.#tuning);
      this.#strict.set(entry.ref, provider);
    }
    return provider;
  }
}
