/**
 * models.authStatus (docs/protocol.md §3.1): for each configured provider,
 * whether Pincer holds a key for it and where the key comes from, never the
 * key itself. Pincer authenticates with static API keys only (no OAuth
 * profiles).
 */

import * as v from 'valibot';
import type { ModelEndpointConfig, ProviderKind } from '../../../config/schema.js';
import type { MethodTable } from '../method-types.js';

/** Where a provider's key comes from. */
export type KeySource = 'config' | 'env' | 'none';

export interface ModelsAuthDeps {
  /** The configured endpoints in chain order (primary first). */
  endpoints(): readonly ModelEndpointConfig[];
  /** Where the key of endpoint `index` (chain order) is set: the config file or the environment. */
  keySource(index: number): Promise<KeySource>;
  now?: () => number;
}

/** The providers Pincer speaks, as OpenClaw's providerCapabilities. */
const CAPABILITIES: readonly { provider: ProviderKind; apiKeySupported: boolean; quickApiKeySetup: boolean }[] = [
  { provider: 'anthropic', apiKeySupported: true, quickApiKeySetup: false },
  { provider: 'openai', apiKeySupported: true, quickApiKeySetup: false },
];

const AuthStatusParams = v.object({ agentId: v.optional(v.string()) });

/** Build models.authStatus. */
export function createModelsAuthMethods(deps: ModelsAuthDeps): MethodTable {
  const now = deps.now ?? Date.now;
  return {
    'models.authStatus': {
      params: AuthStatusParams,
      scope: 'operator.read',
      async handler() {
        const endpoints = deps.endpoints();
        const seen = new Set<string>();
        const providers: Record<string, unknown>[] = [];
        for (const [index, endpoint] of endpoints.entries()) {
          // One row per place a key is used: a kind at one base URL.
          const id = endpoint.baseUrl === undefined ? endpoint.kind : `${endpoint.kind}@${new URL(endpoint.baseUrl).host}`;
          if (seen.has(id)) continue;
          seen.add(id);
          const source = endpoint.apiKey === undefined ? 'none' : await deps.keySource(index);
          providers.push({
            provider: id,
            authProvider: endpoint.kind,
            displayName: endpoint.baseUrl === undefined ? endpoint.kind : `${endpoint.kind} (${new URL(endpoint.baseUrl).host})`,
            // "static": an API key is set; "missing": none, which a hosted provider will refuse (a local server may not care).
            status: endpoint.apiKey === undefined ? 'missing' : 'static',
            profiles: [],
            apiKey: { source },
          });
        }
        return { ts: now(), providers, providerCapabilities: CAPABILITIES.map((entry) => ({ ...entry })) };
      },
    },
  };
}
