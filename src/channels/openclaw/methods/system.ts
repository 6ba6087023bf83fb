/**
 * System methods (docs/protocol.md §3.1): health, status and models.list
 * (agents.list is in agents.ts). Small, path-free answers built from what
 * main.ts hands in.
 */

import * as v from 'valibot';
import { DEFAULT_AGENT_ID } from '../../../sessions/session-key.js';
import type { MethodTable } from '../method-types.js';

/** Context size reported when the provider does not say (OpenClaw's default for unknown models). */
export const DEFAULT_CONTEXT_TOKENS = 128_000;
/** Sessions listed in status.sessions.recent. */
export const STATUS_RECENT_SESSIONS = 10;

/** The configured model, as clients see it. */
export interface ModelInfo {
  /** Provider name, e.g. "openai", "anthropic". */
  provider: string;
  model: string;
  contextTokens?: number;
  reasoning?: boolean;
  /** False while it cools down after failures (default true). */
  available?: boolean;
}

export interface SystemMethodDeps {
  version: string;
  /** Epoch ms the gateway started. */
  startedAt: number;
  /** Sessions, newest `updatedAt` first (SessionStore.list). */
  listSessions(): readonly { key: string; updatedAt: number }[];
  /** The configured model, or undefined when no provider is set up. */
  model(): ModelInfo | undefined;
  /** provider.fallbacks, in order (default none). */
  fallbacks?(): ModelInfo[];
  /** Further health and status fields (channels, heartbeat, event loop; system-status.ts). */
  extras?: { health(): Record<string, unknown>; status(): Record<string, unknown> };
  now?: () => number;
}

const NoParams = v.object({});
/** models.list fields on choices Pincer does not offer: no separate utility model, one account per provider. */
const MODELS_LIST_POLICY = {
  defaultModels: { automaticUtilityModel: null },
  accountSelection: { kind: 'automatic', label: 'Automatic account selection' },
} as const;
const ModelsListParams = v.object({ view: v.optional(v.string()) });

/** Build the system method entries. */
export function createSystemMethods(deps: SystemMethodDeps): MethodTable {
  const now = deps.now ?? Date.now;

  return {
    health: {
      params: NoParams,
      scope: 'operator.read',
      handler() {
        const started = now();
        const count = deps.listSessions().length;
        return {
          ok: true,
          ts: started,
          durationMs: Math.max(0, now() - started),
          defaultAgentId: DEFAULT_AGENT_ID,
          agents: [{ agentId: DEFAULT_AGENT_ID, isDefault: true, sessions: { count, recent: [] } }],
          sessions: { count, recent: [] },
          channels: {},
          channelOrder: [],
          channelLabels: {},
          heartbeatSeconds: 0,
          ...deps.extras?.health(),
        };
      },
    },
    status: {
      params: NoParams,
      scope: 'operator.read',
      handler() {
        const sessions = deps.listSessions();
        const model = deps.model();
        return {
          runtimeVersion: deps.version,
          uptimeMs: Math.max(0, now() - deps.startedAt),
          sessions: {
            count: sessions.length,
            defaults: {
              model: model?.model ?? null,
              contextTokens: model === undefined ? null : (model.contextTokens ?? DEFAULT_CONTEXT_TOKENS),
            },
            recent: sessions.slice(0, STATUS_RECENT_SESSIONS).map((s) => ({ key: s.key, updatedAt: s.updatedAt })),
          },
          ...deps.extras?.status(),
        };
      },
    },
    'models.list': {
      params: ModelsListParams,
      scope: 'operator.read',
      handler() {
        const model = deps.model();
        if (model === undefined) return { models: [], ...MODELS_LIST_POLICY };
        // The primary first, then the fallbacks; each one a session may choose with sessions.patch { model }.
        const seen = new Set<string>();
        const models = [model, ...(deps.fallbacks?.() ?? [])].filter((entry) => {
          const ref = `${entry.provider}/${entry.model}`;
          if (seen.has(ref)) return false;
          seen.add(ref);
          return true;
        });
        return {
          models: models.map((entry, index) => ({
            id: entry.model,
            name: entry.model,
            provider: entry.provider,
            contextWindow: entry.contextTokens ?? DEFAULT_CONTEXT_TOKENS,
            reasoning: entry.reasoning ?? false,
            // The primary is what a session uses unless it chooses another.
            tags: index === 0 ? ['default'] : [],
            // Pincer sends no thinking settings to models, so "off" is the one level.
            thinkingLevels: [{ id: 'off', label: 'off' }],
            thinkingDefault: 'off',
            manualSelectionAllowed: true,
            available: entry.available ?? true,
          })),
          ...MODELS_LIST_POLICY,
        };
      },
    },
  };
}
