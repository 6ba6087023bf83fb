/**
 * sessions.usage, usage.cost and usage.status: token and cost totals folded
 * from the stored replies (sessions/usage-report.ts), in OpenClaw's shapes.
 * Totals come from the session files, so they survive restarts.
 */

import * as v from 'valibot';
import { GatewayError } from '../../../protocol/errors.js';
import { DayRangeError, resolveDayRange, type DayRange, type DayRangeQuery } from '../../../sessions/usage-range.js';
import {
  emptyTotals,
  mergeTotals,
  summarizeDays,
  summarizeSession,
  type CostTotals,
  type ModelTotals,
  type PriceReply,
  type SessionMessages,
  type SessionUsage,
} from '../../../sessions/usage-report.js';
import type { SessionMeta, StoredMessage } from '../../../sessions/types.js';
import type { MethodTable } from '../method-types.js';

/** sessions.usage rows when the client asks for no limit (OpenClaw's default). */
export const DEFAULT_USAGE_SESSIONS = 50;
/** Most sessions.usage rows. */
export const MAX_USAGE_SESSIONS = 5_000;

/** One configured model, as usage.status lists it. */
export interface StatusModel {
  provider: string;
  model: string;
  /** Ms until it may be called again after failures (0: available). */
  cooldownMs: number;
  /** Its last failure, while cooling down. */
  lastError?: string;
}

/** What usage needs of the sessions: the assistant façade gives both. */
export interface UsageSessions {
  list(): SessionMeta[];
  history(sessionKey: string): Promise<{ messages: StoredMessage[] }>;
}

export interface UsageMethodDeps {
  store: UsageSessions;
  /** Raw client key → canonical key; throws GatewayError on an invalid key. */
  canonicalize: (raw: string) => string;
  /** Cost of a reply stored without one; undefined when its price is unknown. */
  price: PriceReply;
  /** The configured models in chain order, with their cooldowns. */
  models: () => StatusModel[];
  /** Throws UNKNOWN_AGENT naming an id that is not configured. */
  requireAgent: (agentId: string) => void;
  now?: () => number;
}

const DateString = v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD'));
const RangeFields = {
  startDate: v.optional(DateString),
  endDate: v.optional(DateString),
  days: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  mode: v.optional(v.picklist(['utc', 'gateway', 'specific'])),
  utcOffset: v.optional(v.string()),
  timeZone: v.optional(v.string()),
  range: v.optional(v.string()),
  agentId: v.optional(v.string()),
  agentScope: v.optional(v.string()),
};
const SessionsUsageParams = v.object({
  ...RangeFields,
  key: v.optional(v.pipe(v.string(), v.minLength(1))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});
const CostParams = v.object(RangeFields);
const NoParams = v.object({});

/** Preset ranges of OpenClaw's Usage page, in days. */
const PRESET_DAYS: Record<string, number> = { '1d': 1, today: 1, '7d': 7, '30d': 30, '90d': 90, '1y': 365 };

/** Build the usage entries. */
export function createUsageMethods(deps: UsageMethodDeps): MethodTable {
  const now = deps.now ?? Date.now;

  /** The sessions of one agent when the query names it (refused when unknown), else every session. */
  function sessionsOf(agentId: string | undefined): SessionMeta[] {
    const metas = deps.store.list();
    if (agentId === undefined) return metas;
    const id = agentId.toLowerCase();
    deps.requireAgent(id);
    return metas.filter((meta) => meta.agentId === id);
  }

  async function readSessions(metas: readonly SessionMeta[]): Promise<SessionMessages[]> {
    return Promise.all(metas.map(async (meta) => ({ meta, messages: (await deps.store.history(meta.key)).messages })));
  }

  return {
    'sessions.usage': {
      params: SessionsUsageParams,
      scope: 'operator.read',
      async handler(params) {
        let metas = sessionsOf(params.agentId);
        const range = rangeOf(params, now());
        if (params.key !== undefined) {
          const key = deps.canonicalize(params.key);
          metas = metas.filter((meta) => meta.key === key);
        }
        const rows: { meta: SessionMeta; usage: SessionUsage }[] = [];
        for (const session of await readSessions(metas)) {
          const usage = summarizeSession(session, range, deps.price);
          if (usage !== null) rows.push({ meta: session.meta, usage });
        }
        rows.sort((a, b) => (b.usage.lastActivity ?? 0) - (a.usage.lastActivity ?? 0));
        const limit = Math.min(params.limit ?? DEFAULT_USAGE_SESSIONS, MAX_USAGE_SESSIONS);
        return {
          updatedAt: now(),
          startDate: range.startDate,
          endDate: range.endDate,
          sessions: rows.slice(0, limit).map(({ meta, usage }) => sessionRow(meta, usage)),
          totals: sumTotals(rows.map((row) => row.usage)),
          aggregates: aggregate(rows),
          // One operator: no creators to filter by. Totals are read from the files on every call, never cached.
          creatorOptions: [],
          cacheStatus: { status: 'fresh', cachedFiles: 0, pendingFiles: 0, staleFiles: 0 },
        };
      },
    },

    'usage.cost': {
      params: CostParams,
      scope: 'operator.read',
      async handler(params) {
        const metas = sessionsOf(params.agentId);
        const range = rangeOf(params, now());
        const { daily, totals } = summarizeDays(await readSessions(metas), range, deps.price);
        return { updatedAt: now(), startDate: range.startDate, endDate: range.endDate, days: range.days, daily, totals };
      },
    },

    'usage.status': {
      params: NoParams,
      scope: 'operator.read',
      async handler() {
        const today = resolveDayRange({ days: 1 }, now());
        const byModel = new Map<string, ModelTotals>();
        for (const session of await readSessions(deps.store.list())) {
          for (const model of summarizeSession(session, today, deps.price)?.modelUsage ?? []) {
            const key = `${model.provider ?? ''}/${model.model ?? ''}`;
            const known = byModel.get(key);
            if (known === undefined) byModel.set(key, { ...model, totals: { ...model.totals } });
            else {
              known.count += model.count;
              mergeTotals(known.totals, model.totals);
            }
          }
        }
        const providers = deps.models().map((configured) => {
          const used = byModel.get(`${configured.provider}/${configured.model}`);
          const entry: Record<string, unknown> = {
            provider: configured.provider,
            displayName: `${configured.provider} ${configured.model}`,
            model: configured.model,
            // Pincer reads no quota windows from providers; it reports what it counted itself.
            windows: [],
            summary: todaySummary(used),
          };
          if (configured.cooldownMs > 0) {
            entry.error = `cooling down for ${Math.ceil(configured.cooldownMs / 1_000)} s after: ${configured.lastError ?? 'a failure'}`;
          }
          return entry;
        });
        return { updatedAt: now(), providers, refreshing: false };
      },
    },
  };
}

/** The range of a query; a bad date, offset or zone is INVALID_REQUEST naming the field. */
function rangeOf(params: DayRangeQuery & { range?: string }, now: number): DayRange {
  const query: DayRangeQuery = { ...params };
  if (query.startDate === undefined && query.days === undefined && params.range !== undefined) {
    const preset = PRESET_DAYS[params.range];
    if (preset !== undefined) query.days = preset;
  }
  try {
    return resolveDayRange(query, now);
  } catch (error) {
    if (error instanceof DayRangeError) {
      throw new GatewayError('INVALID_REQUEST', `invalid ${error.field}: ${error.message}`, { details: { field: error.field } });
    }
    throw error;
  }
}

function sessionRow(meta: SessionMeta, usage: SessionUsage): Record<string, unknown> {
  const main = usage.modelUsage[0];
  return {
    key: meta.key,
    label: meta.label ?? meta.derivedTitle ?? undefined,
    sessionId: meta.sessionId,
    updatedAt: meta.updatedAt,
    agentId: meta.agentId,
    modelProvider: main?.provider ?? null,
    model: main?.model ?? null,
    usage,
    // OpenClaw groups a session's successive instances into a family; a Pincer session is one instance.
    scope: 'family',
    sessionFamilyKey: meta.key,
    currentSessionId: meta.sessionId,
    includedSessionIds: [meta.sessionId],
    historicalInstanceCount: 1,
    chatType: 'direct',
    hasContextWeight: false,
  };
}

function sumTotals(usages: readonly SessionUsage[]): CostTotals {
  const totals = emptyTotals();
  for (const usage of usages) {
    const own = emptyTotals();
    for (const key of Object.keys(own) as (keyof CostTotals)[]) own[key] = usage[key];
    mergeTotals(totals, own);
  }
  return totals;
}

/** The `aggregates` of sessions.usage: counts, tools, per model, per provider, per agent and per day. */
function aggregate(rows: readonly { meta: SessionMeta; usage: SessionUsage }[]): Record<string, unknown> {
  const usages = rows.map((row) => row.usage);
  const agentUsages = new Map<string, SessionUsage[]>();
  for (const { meta, usage } of rows) agentUsages.set(meta.agentId, [...(agentUsages.get(meta.agentId) ?? []), usage]);
  const messages = { total: 0, user: 0, assistant: 0, toolCalls: 0, toolResults: 0, errors: 0 };
  const tools = new Map<string, number>();
  const byModel = new Map<string, ModelTotals>();
  const byProvider = new Map<string, ModelTotals>();
  const daily = new Map<string, { date: string; tokens: number; cost: number; messages: number; toolCalls: number; errors: number }>();
  for (const usage of usages) {
    for (const key of Object.keys(messages) as (keyof typeof messages)[]) messages[key] += usage.messageCounts[key];
    for (const tool of usage.toolUsage.tools) tools.set(tool.name, (tools.get(tool.name) ?? 0) + tool.count);
    for (const model of usage.modelUsage) {
      addModel(byModel, `${model.provider ?? ''}/${model.model ?? ''}`, model, false);
      addModel(byProvider, model.provider ?? '', model, true);
    }
    for (const day of usage.dailyBreakdown) {
      const entry = daily.get(day.date) ?? { date: day.date, tokens: 0, cost: 0, messages: 0, toolCalls: 0, errors: 0 };
      entry.tokens += day.tokens;
      entry.cost += day.cost;
      daily.set(day.date, entry);
    }
    for (const day of usage.dailyMessageCounts) {
      const entry = daily.get(day.date) ?? { date: day.date, tokens: 0, cost: 0, messages: 0, toolCalls: 0, errors: 0 };
      entry.messages += day.total;
      entry.toolCalls += day.toolCalls;
      entry.errors += day.errors;
      daily.set(day.date, entry);
    }
  }
  const totals = sumTotals(usages);
  return {
    sessionCount: usages.length,
    messages,
    tools: {
      totalCalls: messages.toolCalls,
      uniqueTools: tools.size,
      tools: [...tools].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count),
    },
    byModel: [...byModel.values()],
    byProvider: [...byProvider.values()],
    byAgent: [...agentUsages].map(([agentId, own]) => ({ agentId, totals: sumTotals(own) })),
    byChannel: [],
    byCreator: [],
    costDaily: [...daily.values()].map((day) => ({ date: day.date, cost: day.cost })).sort((a, b) => a.date.localeCompare(b.date)),
    // Pincer stores no per-reply latency.
    dailyLatency: [],
    daily: [...daily.values()].sort((a, b) => a.date.localeCompare(b.date)),
    modelDaily: usages.flatMap((usage) => usage.dailyModelUsage),
  };
}

function addModel(into: Map<string, ModelTotals>, key: string, model: ModelTotals, providerOnly: boolean): void {
  let entry = into.get(key);
  if (entry === undefined) {
    entry = { count: 0, totals: emptyTotals() };
    if (model.provider !== undefined) entry.provider = model.provider;
    if (!providerOnly && model.model !== undefined) entry.model = model.model;
    into.set(key, entry);
  }
  entry.count += model.count;
  mergeTotals(entry.totals, model.totals);
}

/** "today: 1,234 tokens in 3 replies, $0.0123 estimated" (UTC day). Unknown prices say so. */
function todaySummary(used: ModelTotals | undefined): string {
  if (used === undefined) return 'today: no replies';
  const tokens = used.totals.totalTokens.toLocaleString('en-US');
  const replies = `${used.count} ${used.count === 1 ? 'reply' : 'replies'}`;
  const cost =
    used.totals.missingCostEntries === used.count
      ? 'price unknown'
      : `$${used.totals.totalCost.toFixed(4)} estimated${used.totals.missingCostEntries > 0 ? ` (${used.totals.missingCostEntries} unpriced)` : ''}`;
  return `today: ${tokens} tokens in ${replies}, ${cost}`;
}
