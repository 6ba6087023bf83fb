/**
 * The agent loop, pure: stream a model call, run the tools it asks for, feed
 * the results back, repeat until the model stops, fails, is aborted or hits
 * the iteration cap, or asks for a tool the client runs (then the calls are
 * handed back). No storage, no bus: it takes a Provider and an `emit`
 * callback and returns the new messages. It never throws.
 */

import { randomUUID } from 'node:crypto';

import type { RunStatus } from './types.js';
import type { ToolCall, ToolExecutor, ToolOutcome } from './tool-types.js';
import type { FailedModelCall, ModelMessage, ModelRequest, Provider, ProviderEvent } from '../providers/types.js';
import type { ContentBlock, Message, StopReason, Usage } from '../messages/types.js';

/** Model calls per run when `maxIterations` is not given. */
export const DEFAULT_MAX_ITERATIONS = 20;
/** Text a tool result may carry before it is refused as oversized (chars). */
export const DEFAULT_MAX_TOOL_RESULT_CHARS = 200_000;
/** How much of a bad argument string an error result quotes back (chars). */
const MAX_QUOTED_ARGUMENT_CHARS = 200;
/** How long an aborted provider stream may take to end before the loop stops waiting (ms). */
const ABORTED_STREAM_GRACE_MS = 1_000;

/** A message the loop produced; the run gives it an id and runId when it stores it. */
export type LoopMessage = Message;

/** Progress of a run; the service adds runId and sessionKey to make RunEvents. */
export type LoopEvent =
  | { type: 'text.delta'; delta: string; text: string }
  | { type: 'thinking.delta'; delta: string; text: string }
  | { type: 'tool.call'; toolCallId: string; name: string; arguments: Record<string, unknown> }
  | { type: 'tool.result'; toolCallId: string; name: string; content: ContentBlock[]; isError: boolean }
  /** Running total for the run so far. */
  | { type: 'usage'; usage: Usage }
  /** The model answering this call, when the provider chose one (failover); `failedOver` lists the models that failed first. */
  | { type: 'model'; provider: string; model: string; failedOver?: FailedModelCall[] };

export interface AgentLoopOptions {
  provider: Provider;
  /** Context for the first call; tools offered to the model are `request.tools`. */
  request: ModelRequest;
  /** Runs tool calls; without it every tool call gets an error result. */
  executeTool?: ToolExecutor;
  /**
   * Names of tools the client runs itself (they are in `request.tools` too).
   * A model call that asks for one ends the loop: the gateway's own calls of
   * that step run, the client's are handed back in `clientToolCalls`.
   */
  clientTools?: ReadonlySet<string>;
  /** Model calls at most (default 20). */
  maxIterations?: number;
  /** Aborting cancels the provider stream and running tools. */
  signal: AbortSignal;
  /** Called synchronously for each event, in order; a throwing emit is ignored. */
  emit: (event: LoopEvent) => void;
  /** Tool result text cap (chars, default 200000). */
  maxToolResultChars?: number;
  /** Clock for message timestamps (default Date.now). */
  now?: () => number;
}

export interface AgentLoopResult {
  status: RunStatus;
  /** New messages in order; the last one is an assistant message, except after a hand-back to the client when the gateway's own calls of that step ran (their results come last). */
  messages: LoopMessage[];
  /** Stop reason of the last assistant message. */
  stopReason: StopReason;
  /** Readable cause when status is 'error'. */
  error?: string;
  /** Summed over every model call. */
  usage: Usage;
  /** Model calls made. */
  iterations: number;
  /** The calls to client tools the loop stopped at (stopReason `toolUse`, status ok). */
  clientToolCalls?: ToolCall[];
}

type Terminal = Extract<ProviderEvent, { type: 'done' | 'error' | 'aborted' }>;

interface StreamedTurn {
  content: ContentBlock[];
  calls: ToolCall[];
  /** Calls whose arguments were not a JSON object, by id → raw text. */
  badArguments: Map<string, string>;
  usage: Usage | undefined;
  /** The model that answered, when the provider named one. */
  answeredBy: { provider: string; model: string } | undefined;
  terminal: Terminal;
}

/** Run the model/tool loop for one turn. Resolves, never rejects. */
export async function runAgentLoop(options: AgentLoopOptions): Promise<AgentLoopResult> {
  const { provider, signal } = options;
  const now = options.now ?? Date.now;
  const maxIterations = positiveInt(options.maxIterations, DEFAULT_MAX_ITERATIONS);
  const emit = safeEmitter(options.emit);
  const messages: LoopMessage[] = [];
  const context: ModelMessage[] = [...options.request.messages];
  let total: Usage = { input: 0, output: 0, totalTokens: 0 };
  let answeredBy = { provider: provider.name, model: provider.model };

  for (let iteration = 1; ; iteration++) {
    const startedAt = now();
    const turn = await streamTurn(provider, { ...options.request, messages: context }, signal, emit);
    if (turn.answeredBy !== undefined) answeredBy = turn.answeredBy;
    if (turn.usage !== undefined) {
      total = addUsage(total, turn.usage);
      emit({ type: 'usage', usage: total });
    }
    const assistant: LoopMessage = {
      role: 'assistant',
      content: turn.content,
      timestamp: startedAt,
      provider: answeredBy.provider,
      model: answeredBy.model,
      stopReason: 'stop',
    };
    if (turn.usage !== undefined) assistant.usage = turn.usage;
    messages.push(assistant);
    const end = (status: RunStatus, stopReason: StopReason, error?: string): AgentLoopResult => {
      const last = messages[messages.length - 1] as LoopMessage;
      last.stopReason = stopReason;
      if (error !== undefined) last.errorMessage = error;
      return { status, messages, stopReason, error, usage: total, iterations: iteration };
    };

    if (turn.terminal.type === 'aborted') return end('aborted', 'aborted');
    if (turn.terminal.type === 'error') return end('error', 'error', turn.terminal.message);
    if (turn.calls.length === 0) {
      return end('ok', turn.terminal.stopReason === 'toolUse' ? 'stop' : turn.terminal.stopReason);
    }

    assistant.stopReason = 'toolUse';
    const handedBack = turn.calls.filter((call) => options.clientTools?.has(call.name) === true);
    if (handedBack.length > 0) {
      assistant.awaitsClientTools = true;
      const own = turn.calls.filter((call) => !handedBack.includes(call));
      if (own.length > 0) messages.push(...(await runTools({ ...turn, calls: own }, options, signal, now, emit)));
      if (signal.aborted) {
        delete assistant.awaitsClientTools;
        messages.push(emptyAssistant(answeredBy, now()));
        return end('aborted', 'aborted');
      }
      return { status: 'ok', messages, stopReason: 'toolUse', usage: total, iterations: iteration, clientToolCalls: handedBack };
    }
    if (iteration >= maxIterations) {
      const reason = `not run: the limit of ${maxIterations} model calls per run was reached`;
      for (const call of turn.calls) messages.push(toolResultMessage(call, errorOutcome(reason), now, emit));
      messages.push(emptyAssistant(answeredBy, now()));
      return end('error', 'error', `stopped after ${maxIterations} model calls: the model kept calling tools (maxToolIterations)`);
    }

    const results = await runTools(turn, options, signal, now, emit);
    messages.push(...results);
    if (signal.aborted) {
      messages.push(emptyAssistant(answeredBy, now()));
      return end('aborted', 'aborted');
    }
    context.push({ role: 'assistant', content: turn.content });
    for (const result of results) {
      context.push({
        role: 'toolResult',
        toolCallId: result.toolCallId as string,
        toolName: result.toolName as string,
        content: result.content,
        isError: result.isError === true,
      });
    }
  }
}

/** Stream one model call into content blocks, emitting deltas as they arrive. */
async function streamTurn(
  provider: Provider,
  request: ModelRequest,
  signal: AbortSignal,
  emit: (event: LoopEvent) => void,
): Promise<StreamedTurn> {
  const content: ContentBlock[] = [];
  const calls: ToolCall[] = [];
  const badArguments = new Map<string, string>();
  const seenIds = new Set<string>();
  // The text so far is the current block's text after the turn's earlier text blocks: one string shared by the
  // block and the events, so a long reply is held once (and flattened once), not once per holder.
  let earlierText = '';
  let thinking = '';
  let usage: Usage | undefined;
  let answeredBy: StreamedTurn['answeredBy'];
  let terminal: Terminal | undefined;

  let events: WatchedStream | undefined;
  try {
    // Inside the try: a provider that throws from stream() itself is a failed call too.
    events = watchStream(provider.stream(request, signal), signal);
    for (let event = await events.next(); event !== undefined; event = await events.next()) {
      if (event.type === 'text') {
        if (event.delta === '') continue;
        let last = content[content.length - 1];
        if (last?.type === 'text') last.text += event.delta;
        else {
          earlierText = '';
          for (const block of content) if (block.type === 'text') earlierText += block.text;
          last = { type: 'text', text: event.delta };
          content.push(last);
        }
        emit({ type: 'text.delta', delta: event.delta, text: earlierText + last.text });
      } else if (event.type === 'thinking') {
        if (event.delta === '') continue;
        const last = content[content.length - 1];
        if (last?.type === 'thinking') last.thinking += event.delta;
        else content.push({ type: 'thinking', thinking: event.delta });
        thinking += event.delta;
        emit({ type: 'thinking.delta', delta: event.delta, text: thinking });
      } else if (event.type === 'toolCall') {
        const id = uniqueCallId(event.id, seenIds);
        const args = isPlainObject(event.arguments) ? event.arguments : {};
        if (!isPlainObject(event.arguments)) badArguments.set(id, event.rawArguments);
        content.push({ type: 'toolCall', id, name: event.name, arguments: args });
        calls.push({ id, name: event.name, arguments: args });
        emit({ type: 'tool.call', toolCallId: id, name: event.name, arguments: args });
      } else if (event.type === 'usage') {
        usage = event.usage;
      } else if (event.type === 'model') {
        answeredBy = { provider: event.provider, model: event.model };
        const announced: LoopEvent = { type: 'model', provider: event.provider, model: event.model };
        if (event.failedOver !== undefined && event.failedOver.length > 0) announced.failedOver = event.failedOver;
        emit(announced);
      } else {
        terminal = event;
        break;
      }
    }
  } catch (error) {
    // The Provider contract forbids throwing; treat a broken provider like a failed call.
    terminal = { type: 'error', message: `model provider failed: ${errorText(error)}`, retryable: false };
  } finally {
    events?.close();
  }
  // A provider may report a cancelled request as an error; the abort is what happened.
  if (signal.aborted && terminal?.type !== 'done') terminal = { type: 'aborted' };
  terminal ??= { type: 'error', message: 'the model stream ended without a final event', retryable: true };
  return { content, calls, badArguments, usage, answeredBy, terminal };
}

interface WatchedStream {
  /** The next event, or undefined at the end (or once an aborted stream was given up on). */
  next(): Promise<ProviderEvent | undefined>;
  /** Release the stream and the abort listener. */
  close(): void;
}

/**
 * Iterate a provider stream, but stop waiting for it ABORTED_STREAM_GRACE_MS
 * after an abort: a provider that ignores its signal must not hang the run.
 * One pending slot instead of Promise.race per event, so nothing accumulates.
 */
function watchStream(stream: AsyncIterable<ProviderEvent>, signal: AbortSignal): WatchedStream {
  const iterator = stream[Symbol.asyncIterator]();
  let abandon: (() => void) | undefined;
  let abandoned = false;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    timer = setTimeout(() => {
      abandoned = true;
      abandon?.();
    }, ABORTED_STREAM_GRACE_MS);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    next() {
      if (abandoned || finished) return Promise.resolve(undefined);
      return new Promise<ProviderEvent | undefined>((resolve, reject) => {
        abandon = () => resolve(undefined);
        iterator.next().then((result) => {
          if (result.done === true) finished = true;
          resolve(result.done === true ? undefined : result.value);
        }, reject);
      });
    },
    close() {
      signal.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
      abandon = undefined;
      if (!finished) {
        finished = true;
        // Lets the provider cancel its request; a generator busy in an await settles later.
        iterator.return?.().then(undefined, () => undefined);
      }
    },
  };
}

/** Run every call of one turn in parallel; results come back in call order. */
async function runTools(
  turn: StreamedTurn,
  options: AgentLoopOptions,
  signal: AbortSignal,
  now: () => number,
  emit: (event: LoopEvent) => void,
): Promise<LoopMessage[]> {
  const offered = new Set((options.request.tools ?? []).map((tool) => tool.name));
  const maxChars = positiveInt(options.maxToolResultChars, DEFAULT_MAX_TOOL_RESULT_CHARS);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<ToolOutcome>((resolve) => {
    onAbort = () => resolve(errorOutcome('aborted: the run was stopped before this tool finished'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.all(
      turn.calls.map(async (call) => {
        const running = executeOne(call, turn.badArguments.get(call.id), offered, options.executeTool, signal, maxChars);
        // Do not wait for a tool that ignores the abort signal.
        const outcome = await Promise.race([running, aborted]);
        return toolResultMessage(call, outcome, now, emit);
      }),
    );
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

async function executeOne(
  call: ToolCall,
  badArguments: string | undefined,
  offered: ReadonlySet<string>,
  executeTool: ToolExecutor | undefined,
  signal: AbortSignal,
  maxChars: number,
): Promise<ToolOutcome> {
  if (!offered.has(call.name) || executeTool === undefined) {
    const available = [...offered].join(', ');
    return errorOutcome(`unknown tool: ${call.name}${available === '' ? ' (no tools are available)' : ` (available: ${available})`}`);
  }
  if (badArguments !== undefined) {
    return errorOutcome(
      `invalid arguments for tool ${call.name}: expected a JSON object, got ${quote(badArguments)}`,
    );
  }
  let outcome: ToolOutcome;
  try {
    outcome = await executeTool(call, signal);
  } catch (error) {
    return errorOutcome(`tool ${call.name} failed: ${errorText(error)}`);
  }
  if (!Array.isArray(outcome?.content)) return errorOutcome(`tool ${call.name} returned no content`);
  const chars = contentChars(outcome.content);
  if (chars > maxChars) {
    return errorOutcome(`tool ${call.name} output too large: ${chars} characters (limit ${maxChars})`);
  }
  return { content: outcome.content, isError: outcome.isError === true };
}

function toolResultMessage(
  call: ToolCall,
  outcome: ToolOutcome,
  now: () => number,
  emit: (event: LoopEvent) => void,
): LoopMessage {
  const isError = outcome.isError === true;
  emit({ type: 'tool.result', toolCallId: call.id, name: call.name, content: outcome.content, isError });
  return { role: 'toolResult', content: outcome.content, timestamp: now(), toolCallId: call.id, toolName: call.name, isError };
}

/** Closes a run that ended between model calls, so the last message is the assistant's. */
function emptyAssistant(model: { provider: string; model: string }, timestamp: number): LoopMessage {
  return { role: 'assistant', content: [], timestamp, provider: model.provider, model: model.model, stopReason: 'stop' };
}

function errorOutcome(message: string): ToolOutcome {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** Tool results are matched by id, so ids must be present and distinct within a turn. */
function uniqueCallId(id: string, seen: Set<string>): string {
  let candidate = id !== '' ? id : `call_${randomUUID()}`;
  for (let n = 2; seen.has(candidate); n++) candidate = `${id}_${n}`;
  seen.add(candidate);
  return candidate;
}

function contentChars(content: ContentBlock[]): number {
  let chars = 0;
  for (const block of content) {
    if (block.type === 'text') chars += block.text.length;
    else if (block.type === 'thinking') chars += block.thinking.length;
    else if (block.type === 'image') chars += block.source.data.length;
    else chars += JSON.stringify(block.arguments).length;
  }
  return chars;
}

function addUsage(a: Usage, b: Usage): Usage {
  const sum: Usage = { input: a.input + b.input, output: a.output + b.output, totalTokens: a.totalTokens + b.totalTokens };
  if (a.cacheRead !== undefined || b.cacheRead !== undefined) sum.cacheRead = (a.cacheRead ?? 0) + (b.cacheRead ?? 0);
  if (a.cacheWrite !== undefined || b.cacheWrite !== undefined) sum.cacheWrite = (a.cacheWrite ?? 0) + (b.cacheWrite ?? 0);
  return sum;
}

function safeEmitter(emit: (event: LoopEvent) => void): (event: LoopEvent) => void {
  return (event) => {
    try {
      emit(event);
    } catch {
      // A failing observer must not break the run; the service's emit only publishes.
    }
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}

function quote(raw: string): string {
  const excerpt = raw.length > MAX_QUOTED_ARGUMENT_CHARS ? `${raw.slice(0, MAX_QUOTED_ARGUMENT_CHARS)}…` : raw;
  return JSON.stringify(excerpt);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
