/**
 * Token and cost totals folded from stored replies, per session, per day and
 * per model, in the shapes of OpenClaw's sessions.usage and usage.cost.
 * Pure: the caller reads the sessions and says how to price a reply. A reply
 * whose price is unknown adds its tokens and counts in `missingCostEntries`,
 * never as a cost of 0.
 */

import type { DayRange } from './usage-range.js';
import type { Usage, UsageCost } from '../messages/types.js';
import type { SessionMeta, StoredMessage } from './types.js';

/** Cost of a reply's usage when it has none stored (older rows, prices added later); undefined when unknown. */
export type PriceReply = (model: string | undefined, usage: Usage) => UsageCost | undefined;

/** OpenClaw's CostUsageTotals. */
export interface CostTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  totalTokens: number;
  /** USD of the replies whose price is known. */
  totalCost: number;
  inputCost: number;
  outputCost: number;
  cacheReadCost: number;
  cacheWriteCost: number;
  /** Replies with tokens but no known price. */
  missingCostEntries: number;
}

export interface ModelTotals {
  provider?: string;
  model?: string;
  /** Replies. */
  count: number;
  totals: CostTotals;
}

export interface MessageCounts {
  total: number;
  user: number;
  assistant: number;
  toolCalls: number;
  toolResults: number;
  errors: number;
}

/** OpenClaw's SessionCostSummary, the `usage` of a sessions.usage row. */
export interface SessionUsage extends CostTotals {
  sessionId: string;
  firstActivity?: number;
  lastActivity?: number;
  durationMs?: number;
  activityDates: string[];
  dailyBreakdown: { date: string; tokens: number; cost: number }[];
  dailyMessageCounts: (MessageCounts & { date: string })[];
  messageCounts: MessageCounts;
  toolUsage: { totalCalls: number; uniqueTools: number; tools: { name: string; count: number }[] };
  modelUsage: ModelTotals[];
  dailyModelUsage: { date: string; provider?: string; model?: string; tokens: number; cost: number; count: number }[];
}

/** A session and its stored messages, oldest first. */
export interface SessionMessages {
  meta: SessionMeta;
  messages: readonly StoredMessage[];
}

export function emptyTotals(): CostTotals {
  return {
    input: 0,
    output: 0,
    cacheRead: 0,
    cacheWrite: 0,
    totalTokens: 0,
    totalCost: 0,
    inputCost: 0,
    outputCost: 0,
    cacheReadCost: 0,
    cacheWriteCost: 0,
    missingCostEntries: 0,
  };
}

/** Add one reply's tokens and cost (undefined: unknown price) to `totals`. */
export function addReply(totals: CostTotals, usage: Usage, cost: UsageCost | undefined): void {
  totals.input += usage.input;
  totals.output += usage.output;
  totals.cacheRead += usage.cacheRead ?? 0;
  totals.cacheWrite += usage.cacheWrite ?? 0;
  totals.totalTokens += usage.totalTokens;
  if (cost === undefined) {
    if (usage.totalTokens > 0) totals.missingCostEntries += 1;
    return;
  }
  totals.totalCost += cost.total;
  totals.inputCost += cost.input;
  totals.outputCost += cost.output;
  totals.cacheReadCost += cost.cacheRead;
  totals.cacheWriteCost += cost.cacheWrite;
}

export function mergeTotals(into: CostTotals, from: CostTotals): void {
  for (const key of Object.keys(into) as (keyof CostTotals)[]) into[key] += from[key];
}

/** The stored cost of a reply, else its price now, else undefined. */
export function replyCost(message: StoredMessage, price: PriceReply): UsageCost | undefined {
  if (message.usage === undefined) return undefined;
  return message.usage.cost ?? price(message.model, message.usage);
}

/** One session's usage within `range`; null when it has no messages there. */
export function summarizeSession(session: SessionMessages, range: DayRange, price: PriceReply): SessionUsage | null {
  const summary: SessionUsage = {
    ...emptyTotals(),
    sessionId: session.meta.sessionId,
    activityDates: [],
    dailyBreakdown: [],
    dailyMessageCounts: [],
    messageCounts: emptyCounts(),
    toolUsage: { totalCalls: 0, uniqueTools: 0, tools: [] },
    modelUsage: [],
    dailyModelUsage: [],
  };
  const days = new Map<string, { date: string; tokens: number; cost: number }>();
  const models = new Map<string, ModelTotals>();
  const dayModels = new Map<string, SessionUsage['dailyModelUsage'][number]>();
  const tools = new Map<string, number>();
  const dayCounts = new Map<string, MessageCounts & { date: string }>();
  for (const message of session.messages) {
    const date = range.dayOf(message.timestamp);
    if (!range.includes(date)) continue;
    summary.firstActivity = Math.min(summary.firstActivity ?? message.timestamp, message.timestamp);
    summary.lastActivity = Math.max(summary.lastActivity ?? message.timestamp, message.timestamp);
    countMessage(summary.messageCounts, message, tools);
    const counts = dayCounts.get(date) ?? { date, ...emptyCounts() };
    countMessage(counts, message, new Map());
    dayCounts.set(date, counts);
    if (message.role !== 'assistant' || message.usage === undefined) continue;
    const cost = replyCost(message, price);
    addReply(summary, message.usage, cost);
    const day = days.get(date) ?? { date, tokens: 0, cost: 0 };
    day.tokens += message.usage.totalTokens;
    day.cost += cost?.total ?? 0;
    days.set(date, day);
    const modelKey = `${message.provider ?? ''}/${message.model ?? ''}`;
    const model = models.get(modelKey) ?? { ...modelIdentity(message), count: 0, totals: emptyTotals() };
    model.count += 1;
    addReply(model.totals, message.usage, cost);
    models.set(modelKey, model);
    const dayModelKey = `${date} ${modelKey}`;
    const dayModel = dayModels.get(dayModelKey) ?? { date, ...modelIdentity(message), tokens: 0, cost: 0, count: 0 };
    dayModel.tokens += message.usage.totalTokens;
    dayModel.cost += cost?.total ?? 0;
    dayModel.count += 1;
    dayModels.set(dayModelKey, dayModel);
  }
  if (summary.messageCounts.total === 0) return null;
  if (summary.firstActivity !== undefined && summary.lastActivity !== undefined) {
    summary.durationMs = summary.lastActivity - summary.firstActivity;
  }
  summary.dailyBreakdown = [...days.values()].sort((a, b) => a.date.localeCompare(b.date));
  summary.dailyMessageCounts = [...dayCounts.values()].sort((a, b) => a.date.localeCompare(b.date));
  summary.activityDates = summary.dailyMessageCounts.map((day) => day.date);
  summary.modelUsage = [...models.values()].sort((a, b) => b.totals.totalTokens - a.totals.totalTokens);
  summary.dailyModelUsage = [...dayModels.values()].sort((a, b) => a.date.localeCompare(b.date));
  summary.toolUsage = {
    totalCalls: summary.messageCounts.toolCalls,
    uniqueTools: tools.size,
    tools: [...tools].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count),
  };
  return summary;
}

/** Totals per day (only days with replies), and over the whole range: usage.cost. */
export function summarizeDays(
  sessions: readonly SessionMessages[],
  range: DayRange,
  price: PriceReply,
): { daily: (CostTotals & { date: string })[]; totals: CostTotals } {
  const daily = new Map<string, CostTotals & { date: string }>();
  const totals = emptyTotals();
  for (const session of sessions) {
    for (const message of session.messages) {
      if (message.role !== 'assistant' || message.usage === undefined) continue;
      const date = range.dayOf(message.timestamp);
      if (!range.includes(date)) continue;
      const cost = replyCost(message, price);
      const day = daily.get(date) ?? { date, ...emptyTotals() };
      addReply(day, message.usage, cost);
      daily.set(date, day);
      addReply(totals, message.usage, cost);
    }
  }
  return { daily: [...daily.values()].sort((a, b) => a.date.localeCompare(b.date)), totals };
}

function emptyCounts(): MessageCounts {
  return { total: 0, user: 0, assistant: 0, toolCalls: 0, toolResults: 0, errors: 0 };
}

function modelIdentity(message: StoredMessage): { provider?: string; model?: string } {
  const identity: { provider?: string; model?: string } = {};
  if (message.provider !== undefined) identity.provider = message.provider;
  if (message.model !== undefined) identity.model = message.model;
  return identity;
}

function countMessage(counts: MessageCounts, message: StoredMessage, tools: Map<string, number>): void {
  counts.total += 1;
  if (message.role === 'user') counts.user += 1;
  else if (message.role === 'toolResult') {
    counts.toolResults += 1;
    if (message.isError === true) counts.errors += 1;
  } else {
    counts.assistant += 1;
    if (message.stopReason === 'error') counts.errors += 1;
    for (const block of message.content) {
      if (block.type !== 'toolCall') continue;
      counts.toolCalls += 1;
      tools.set(block.name, (tools.get(block.name) ?? 0) + 1);
    }
  }
}
