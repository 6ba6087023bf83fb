/**
 * One run: the loop plus the session and the bus. Builds the context, runs the
 * loop, persists what it produced, then publishes run.end. Never throws.
 */

import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';

import { buildModelRequest, readWorkspaceInstructions } from './context.js';
import { runAgentLoop } from './loop.js';
import type { AgentLoopResult, LoopMessage } from './loop.js';
import { ReplyCheckpoints } from './reply-checkpoints.js';
import { RunProgress } from './run-progress.js';
import type { LiveRun } from './run-registry.js';
import { describeStorageError } from './storage-errors.js';
import type { ToolCallContext, ToolExecutor } from './tool-types.js';
import type { AgentEvent, ChatTurn, RunEvent, RunStatus } from './types.js';
import type { OutboundBus } from '../bus/types.js';
import { messageText } from '../messages/message-text.js';
import type { Usage } from '../messages/types.js';
import type { PriceBook } from '../providers/model-prices.js';
import type { Provider, ToolSpec } from '../providers/types.js';
import type { SessionStore, StoredMessage } from '../sessions/types.js';

/** Run timeout when the turn names none (ms). */
export const DEFAULT_RUN_TIMEOUT_MS = 10 * 60 * 1000;

/** Shown when a turn arrives and no model provider is configured. */
export const NO_PROVIDER_MESSAGE =
  'no model provider is configured: set PINCER_PROVIDER (openai or anthropic), PINCER_MODEL and PINCER_API_KEY ' +
  '(plus PINCER_BASE_URL for Ollama, vLLM, LM Studio or another OpenAI-compatible server), ' +
  'or add a "provider" section to config.json in the state directory, then restart the gateway';

/** Minimal logger; main.ts passes the real one. */
export interface AgentLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What every run needs, shared by the service. */
export interface RunDeps {
  store: SessionStore;
  bus: OutboundBus<AgentEvent>;
  provider: Provider | undefined;
  executeTool?: ToolExecutor;
  /** Read once per run: the tools offered for this run. */
  tools: () => ToolSpec[] | undefined;
  historyLimit: number;
  maxContextChars?: number;
  maxToolIterations: number;
  systemPrompt?: string;
  workspaceDir?: string;
  defaultTimeoutMs: number;
  logger?: AgentLogger;
  /** Prices replies as they are stored; without it no reply has a cost. */
  prices?: PriceBook;
  /** The provider of a model a session chose (`kind/model`); undefined when not configured, then `provider` answers. */
  selectProvider?: (model: string) => Provider | undefined;
  /** The agent a session belongs to: its model chain, prompt, workspace and tools replace the fields above. */
  profileOf?: (sessionKey: string) => AgentProfile | undefined;
}

/** What one agent runs with; read at the start of each of its runs. */
export interface AgentProfile {
  /** Its chain; undefined when no provider is configured. */
  provider: Provider | undefined;
  systemPrompt?: string;
  /** Its workspace: AGENTS.md and SOUL.md are read from here. */
  workspaceDir: string;
  tools: () => ToolSpec[] | undefined;
  executeTool?: ToolExecutor;
}

interface RunOutcome {
  status: RunStatus;
  messages: LoopMessage[];
  stopReason: string;
  error?: string;
  result?: AgentLoopResult;
}

/** Execute one accepted run whose user message is stored. Resolves when run.end is published. */
export async function executeRun(shared: RunDeps, run: LiveRun, turn: ChatTurn, userMessage: StoredMessage): Promise<void> {
  // The submit result must reach the client before the run's first event (docs/protocol.md §3.3).
  await nextTurn();
  const profile = shared.profileOf?.(run.record.sessionKey);
  const deps: RunDeps = profile === undefined ? shared : { ...shared, ...profile };
  const { record, controller } = run;
  const { runId, sessionKey } = record;
  const signal = controller.signal;
  run.phase = 'running';
  record.startedAt = Date.now();
  const provider = providerOf(deps, sessionKey);
  record.provider = provider?.name ?? 'pincer';
  record.model = provider?.model ?? 'none';
  const session = deps.store.get(sessionKey);
  if (session !== undefined) record.sessionId = session.sessionId;
  const progress = new RunProgress(runId, sessionKey, record.sessionId);
  run.progress = progress;
  deps.bus.publish(progress.event({ type: 'run.start', startedAt: record.startedAt, provider: record.provider, model: record.model }));
  deps.bus.publish({ type: 'session.changed', sessionKey, reason: 'run.start', session, activeRunId: runId });

  const timeoutMs = positiveOr(turn.timeoutMs, deps.defaultTimeoutMs);
  const timer = setTimeout(() => abortRun(run, 'timeout'), Math.min(timeoutMs, MAX_TIMER_MS));
  let outcome: RunOutcome;
  try {
    outcome = await produce(deps, provider, run, turn, userMessage);
  } finally {
    clearTimeout(timer);
  }
  if (outcome.status === 'aborted' && run.abortReason === 'timeout') {
    const error = `the run timed out after ${formatSeconds(timeoutMs)}`;
    outcome = { ...outcome, status: 'error', stopReason: 'timeout', error };
    const last = outcome.messages[outcome.messages.length - 1];
    if (last !== undefined) Object.assign(last, { stopReason: 'error', errorMessage: error });
  }

  const stored = await persist(deps, run, outcome);
  const endedAt = Date.now();
  const final = lastAssistant(stored.messages);
  record.status = stored.status;
  record.endedAt = endedAt;
  record.stopReason = stored.stopReason;
  if (stored.error !== undefined) record.error = stored.error;
  record.text = replyText(outcome.messages);
  if (outcome.result !== undefined) record.usage = runUsage(outcome.result.usage, outcome.messages);
  const handedBack = stored.status === 'ok' ? outcome.result?.clientToolCalls : undefined;
  if (handedBack !== undefined) record.clientToolCalls = handedBack.map((call) => ({ type: 'toolCall', ...call }));
  const after = deps.store.get(sessionKey);
  const end = progress.event({
    type: 'run.end',
    status: stored.status,
    stopReason: stored.stopReason,
    startedAt: record.startedAt,
    endedAt,
    text: record.text,
    reply: progress.reply,
  }) as Extract<RunEvent, { type: 'run.end' }>;
  if (final !== undefined) end.message = final;
  if (stored.error !== undefined) end.error = stored.error;
  if (record.usage !== undefined) end.usage = record.usage;
  if (after !== undefined) end.messageCount = after.messageCount;
  if (record.clientToolCalls !== undefined) end.clientToolCalls = record.clientToolCalls;
  deps.bus.publish(end);
  deps.bus.publish({ type: 'session.changed', sessionKey, reason: 'run.end', session: after });
}

/** Abort a live run once; the first reason wins. */
export function abortRun(run: LiveRun, reason: 'rpc' | 'timeout' | 'shutdown'): void {
  if (run.controller.signal.aborted) return;
  run.abortReason = reason;
  run.controller.abort(reason);
}

/** The gateway's tools, then the turn's client tools. */
function offeredTools(own: ToolSpec[] | undefined, client: ToolSpec[] | undefined): ToolSpec[] | undefined {
  if (client === undefined || client.length === 0) return own;
  return [...(own ?? []), ...client];
}

/** The session's chosen model when it is still configured, else the configured chain. */
function providerOf(deps: RunDeps, sessionKey: string): Provider | undefined {
  const chosen = deps.store.get(sessionKey)?.model;
  if (chosen !== undefined) {
    const provider = deps.selectProvider?.(chosen);
    if (provider !== undefined) return provider;
    deps.logger?.warn('the session model is not configured any more; using the configured chain', { sessionKey, model: chosen });
  }
  return deps.provider;
}

async function produce(
  deps: RunDeps,
  provider: Provider | undefined,
  run: LiveRun,
  turn: ChatTurn,
  userMessage: StoredMessage,
): Promise<RunOutcome> {
  if (run.controller.signal.aborted) return aborted(run, provider);
  if (provider === undefined) return failed(provider, NO_PROVIDER_MESSAGE);
  let request;
  try {
    const page = await deps.store.history(run.record.sessionKey, { limit: deps.historyLimit });
    const history = page.messages.some((m) => m.id === userMessage.id) ? page.messages : [...page.messages, userMessage];
    request = buildModelRequest({
      history,
      userMessageId: userMessage.id,
      systemPrompt: deps.systemPrompt,
      workspaceInstructions: await readWorkspaceInstructions(deps.workspaceDir),
      workspacePersona: await readWorkspaceInstructions(deps.workspaceDir, 'SOUL.md'),
      extraSystemPrompt: turn.extraSystemPrompt,
      tools: offeredTools(deps.tools(), turn.clientTools),
      thinking: turn.thinking,
      maxMessages: deps.historyLimit,
      maxChars: deps.maxContextChars,
    });
  } catch (error) {
    deps.logger?.error('could not read session history', { runId: run.record.runId, error: errorText(error) });
    return failed(provider, `could not read the session history: ${describeStorageError(error)}`);
  }
  if (run.controller.signal.aborted) return aborted(run, provider);
  const progress = run.progress as RunProgress;
  const { runId, sessionKey } = run.record;
  const checkpoints = ReplyCheckpoints.for(deps.store, sessionKey, runId, deps.logger);
  const result = await runAgentLoop({
    provider,
    request,
    executeTool: bindToolContext(deps.executeTool, { sessionKey, runId }),
    clientTools: turn.clientTools === undefined ? undefined : new Set(turn.clientTools.map((tool) => tool.name)),
    maxIterations: deps.maxToolIterations,
    signal: run.controller.signal,
    emit: (event) => {
      if (event.type === 'model') {
        // Announce only a change: the failover chain names its model on every call.
        if (event.provider === run.record.provider && event.model === run.record.model) return;
        run.record.provider = event.provider;
        run.record.model = event.model;
      }
      const published = progress.fromLoop(event);
      if (published !== undefined) deps.bus.publish(published);
      if (event.type === 'text.delta') checkpoints?.add(event.delta, event.text);
    },
  });
  checkpoints?.close();
  const stopReason = result.status === 'aborted' ? (run.abortReason ?? 'rpc') : result.stopReason;
  if (deps.prices !== undefined) priceReplies(result.messages, deps.prices);
  return { status: result.status, messages: result.messages, stopReason, error: result.error, result };
}

/** Append the run's messages in order; a storage failure turns the run into an error. */
async function persist(deps: RunDeps, run: LiveRun, outcome: RunOutcome): Promise<{ status: RunStatus; stopReason: string; error?: string; messages: StoredMessage[] }> {
  const { runId, sessionKey } = run.record;
  const messages: StoredMessage[] = [];
  for (const message of outcome.messages) {
    const stored: StoredMessage = { ...message, id: randomUUID(), runId };
    let meta;
    try {
      meta = await deps.store.append(sessionKey, stored);
    } catch (error) {
      deps.logger?.error('could not store the reply', { runId, sessionKey, error: errorText(error) });
      return { status: 'error', stopReason: 'error', error: `could not save the reply: ${describeStorageError(error)}`, messages };
    }
    messages.push(stored);
    deps.bus.publish({ type: 'session.message', sessionKey, message: stored, messageCount: meta.messageCount });
  }
  return { status: outcome.status, stopReason: outcome.stopReason, error: outcome.error, messages };
}

/** Give each reply with usage its cost, when its model's price is known. */
function priceReplies(messages: LoopMessage[], prices: PriceBook): void {
  for (const message of messages) {
    if (message.role !== 'assistant' || message.usage === undefined || message.model === undefined) continue;
    const cost = prices.costOf(message.model, message.usage);
    if (cost !== undefined) message.usage = { ...message.usage, cost };
  }
}

/** The run's token totals, with a cost only when every reply that used tokens was priced. */
function runUsage(total: Usage, messages: LoopMessage[]): Usage {
  const replies = messages.filter((m) => m.role === 'assistant' && m.usage !== undefined);
  if (replies.length === 0 || replies.some((m) => m.usage?.cost === undefined)) return total;
  const cost = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 };
  for (const reply of replies) {
    const part = reply.usage?.cost;
    if (part === undefined) continue;
    cost.input += part.input;
    cost.output += part.output;
    cost.cacheRead += part.cacheRead;
    cost.cacheWrite += part.cacheWrite;
    cost.total += part.total;
  }
  return { ...total, cost };
}

function aborted(run: LiveRun, provider: Provider | undefined): RunOutcome {
  return { status: 'aborted', messages: [closingMessage(provider, 'aborted')], stopReason: run.abortReason ?? 'rpc' };
}

function failed(provider: Provider | undefined, error: string): RunOutcome {
  return { status: 'error', messages: [closingMessage(provider, 'error', error)], stopReason: 'error', error };
}

function closingMessage(provider: Provider | undefined, stopReason: 'aborted' | 'error', errorMessage?: string): LoopMessage {
  const message: LoopMessage = {
    role: 'assistant',
    content: [],
    timestamp: Date.now(),
    provider: provider?.name ?? 'pincer',
    model: provider?.model ?? 'none',
    stopReason,
  };
  if (errorMessage !== undefined) message.errorMessage = errorMessage;
  return message;
}

function lastAssistant(messages: StoredMessage[]): StoredMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'assistant') return messages[i];
  return undefined;
}

/** The reply text: the last assistant message that has any. */
function replyText(messages: LoopMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as LoopMessage;
    if (m.role !== 'assistant') continue;
    const text = messageText(m);
    if (text !== '') return text;
  }
  return '';
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** setTimeout's largest delay; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The executor the loop sees: every call carries the run it belongs to. */
function bindToolContext(executeTool: ToolExecutor | undefined, context: ToolCallContext): ToolExecutor | undefined {
  return executeTool === undefined ? undefined : (call, signal) => executeTool(call, signal, context);
}
