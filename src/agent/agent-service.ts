/**
 * The AgentService: accepts turns (validate, idempotency, durable user
 * message), schedules runs per session, and answers abort, wait and drain.
 * Runs are not tied to the caller: a run goes on after its client left.
 */

import { randomUUID } from 'node:crypto';

import { checkClientToolNames, clientToolResultRows, pendingClientToolCalls } from './client-tools.js';
import { DEFAULT_MAX_CONTEXT_CHARS } from './context.js';
import { DEFAULT_MAX_ITERATIONS } from './loop.js';
import { repairInterruptedRuns } from './recovery.js';
import { DEFAULT_RUN_TIMEOUT_MS, abortRun, executeRun } from './run.js';
import type { AgentLogger, AgentProfile, RunDeps } from './run.js';
import { MAX_IDEMPOTENCY_KEY_CHARS, fingerprintTurn, replayKnownKey } from './idempotency.js';
import { RunProgress } from './run-progress.js';
import { RUN_RECORD_TTL_MS, RunRegistry } from './run-registry.js';
import type { LiveRun } from './run-registry.js';
import { RunScheduler } from './run-scheduler.js';
import { storageUnavailable } from './storage-errors.js';
import type { ToolExecutor } from './tool-types.js';
import type { AcceptedTurn, AgentEvent, AgentService, ChatTurn, RunRecord, SubmitResult } from './types.js';
import type { OutboundBus } from '../bus/types.js';
import { GatewayError, detailError, gatewayUnavailable, type DetailCode } from '../protocol/errors.js';
import type { PriceBook } from '../providers/model-prices.js';
import type { Provider, ToolSpec } from '../providers/types.js';
import type { ContentBlock } from '../messages/types.js';
import type { SessionMeta, SessionStore, StoredMessage } from '../sessions/types.js';

/** Part of the drain budget kept for aborted runs to persist their partial replies (ms). */
export const DRAIN_ABORT_GRACE_MS = 1_500;
/** Newest messages read to find the tool calls a session awaits: they sit right after the run that handed them back. */
const PENDING_CALL_SCAN_MESSAGES = 64;

export interface AgentServiceOptions {
  /** Sessions running a turn at the same time (config agent.maxConcurrentRuns, default 8). */
  maxConcurrentRuns: number;
  /** Longest user message accepted (chars, config agent.maxMessageChars, default 100000). */
  maxMessageChars: number;
  /** Stored messages considered as context (config agent.historyLimit, default 200). */
  historyLimit: number;
  systemPrompt?: string;
  /** Directory whose AGENTS.md is added to the system prompt. */
  workspaceDir?: string;
  /** Model calls per run (default 20). */
  maxToolIterations?: number;
  /** Characters of history sent to the model (default 400000). */
  maxContextChars?: number;
  /** Run timeout when a turn names none (ms, default 600000). */
  defaultRunTimeoutMs?: number;
}

export interface CreateAgentServiceParams {
  store: SessionStore;
  bus: OutboundBus<AgentEvent>;
  /** Undefined when none is configured: runs then end at once with an error saying how to set one. */
  provider: Provider | undefined;
  executeTool?: ToolExecutor;
  /** Tools offered to the model, or a function read at the start of each run (the set may change); executeTool runs them. */
  tools?: ToolSpec[] | (() => ToolSpec[]);
  options: AgentServiceOptions;
  logger?: AgentLogger;
  /** Prices stored replies (provider.cost and the estimates); none when absent. */
  prices?: PriceBook;
  /** The provider of a model a session chose with sessions.patch (`kind/model`). */
  selectProvider?: (model: string) => Provider | undefined;
  /** The agent of a session key (its model, prompt, workspace and tools); absent: every session runs with the fields above. */
  profileOf?: (sessionKey: string) => AgentProfile | undefined;
}

/** AgentService plus start-up repair. */
export interface PincerAgentService extends AgentService {
  /**
   * Close runs cut by a crash with an `interrupted` assistant row, and
   * remember recent runs so a client retrying a key after restart gets the
   * recorded result. Call once after the store is open, before accepting turns.
   * Resolves with the number of runs closed.
   */
  recoverInterruptedRuns(): Promise<number>;
}

/** Build the AgentService. Throws on invalid options (names the option). */
export function createAgentService(params: CreateAgentServiceParams): PincerAgentService {
  return new DefaultAgentService(params);
}

class DefaultAgentService implements PincerAgentService {
  readonly #store: SessionStore;
  readonly #bus: OutboundBus<AgentEvent>;
  readonly #deps: RunDeps;
  readonly #maxMessageChars: number;
  readonly #registry = new RunRegistry();
  readonly #scheduler: RunScheduler;
  readonly #logger: AgentLogger | undefined;
  #drain: Promise<void> | undefined;

  constructor(params: CreateAgentServiceParams) {
    const { options } = params;
    requirePositiveInt('agent.maxMessageChars', options.maxMessageChars);
    requirePositiveInt('agent.historyLimit', options.historyLimit);
    this.#store = params.store;
    this.#bus = params.bus;
    this.#logger = params.logger;
    this.#maxMessageChars = options.maxMessageChars;
    this.#scheduler = new RunScheduler(options.maxConcurrentRuns);
    this.#deps = {
      store: params.store,
      bus: params.bus,
      provider: params.provider,
      executeTool: params.executeTool,
      tools: typeof params.tools === 'function' ? params.tools : constant(params.tools),
      historyLimit: options.historyLimit,
      maxContextChars: options.maxContextChars ?? DEFAULT_MAX_CONTEXT_CHARS,
      maxToolIterations: options.maxToolIterations ?? DEFAULT_MAX_ITERATIONS,
      systemPrompt: options.systemPrompt,
      workspaceDir: options.workspaceDir,
      defaultTimeoutMs: options.defaultRunTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
      logger: params.logger,
      prices: params.prices,
      selectProvider: params.selectProvider,
      profileOf: params.profileOf,
    };
  }

  async submit(turn: ChatTurn, onAccepted?: (accepted: AcceptedTurn) => void): Promise<SubmitResult> {
    const receivedAt = Date.now();
    if (this.#drain !== undefined) throw gatewayUnavailable('shutdown');
    this.#validate(turn);
    const runId = turn.idempotencyKey === undefined || turn.idempotencyKey === '' ? randomUUID() : turn.idempotencyKey;
    const fingerprint = fingerprintTurn(turn.sessionKey, turnFingerprintText(turn), turn.images);

    // Check and reserve with no await in between: concurrent duplicates see the reservation.
    const known = this.#registry.fingerprint(runId);
    if (known !== undefined) return replayKnownKey(this.#registry, runId, known === fingerprint);

    const record: RunRecord = { runId, sessionKey: turn.sessionKey, status: 'running', startedAt: receivedAt };
    let settle!: { resolve: () => void; reject: (error: unknown) => void };
    const accepted = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    accepted.catch(() => undefined);
    const live = this.#registry.add(record, fingerprint, accepted);

    const isNewSession = this.#store.get(turn.sessionKey) === undefined;
    let stored: StoredMessage[];
    let session!: SessionMeta;
    try {
      stored = await this.#turnRows(turn, runId, receivedAt);
      for (const row of stored) session = await this.#store.append(turn.sessionKey, row);
    } catch (error) {
      // A GatewayError is the store refusing the input (e.g. a bad key), not a storage fault.
      const refusal = error instanceof GatewayError ? error : storageUnavailable(error);
      if (!(error instanceof GatewayError)) {
        this.#logger?.error('could not store a turn', { runId, sessionKey: turn.sessionKey, error: String(error) });
      }
      this.#registry.discard(runId);
      settle.reject(refusal);
      throw refusal;
    }
    settle.resolve();
    try {
      onAccepted?.({ runId, sessionKey: turn.sessionKey, messages: stored, session, created: isNewSession });
    } catch (error) {
      this.#logger?.error('announcing an accepted turn failed', { runId, error: String(error) });
    }
    // The run reads history up to its opening row: the user message, or the last tool result.
    const opener = stored[stored.length - 1] as StoredMessage;
    this.#schedule(live, turn, opener);
    const userMessage = opener.role === 'user' ? opener : undefined;
    return userMessage === undefined ? { runId, status: 'started' } : { runId, status: 'started', userMessage };
  }

  abort(sessionKey: string, runId?: string): string[] {
    const aborted: string[] = [];
    for (const live of this.#registry.liveRuns()) {
      if (live.record.sessionKey !== sessionKey || (runId !== undefined && live.record.runId !== runId)) continue;
      if (live.controller.signal.aborted) continue;
      abortRun(live, 'rpc');
      live.cancelQueued?.();
      aborted.push(live.record.runId);
    }
    return aborted;
  }

  async wait(runId: string, timeoutMs: number): Promise<RunRecord | undefined> {
    const record = await this.#registry.wait(runId, timeoutMs);
    return record === undefined ? undefined : { ...record };
  }

  getRun(runId: string): RunRecord | undefined {
    const record = this.#registry.record(runId);
    return record === undefined ? undefined : { ...record };
  }

  activeRuns(): RunRecord[] {
    return this.#registry.liveRuns().map((live) => ({ ...live.record }));
  }

  runAwaitingToolCall(callId: string): RunRecord | undefined {
    const record = this.#registry.newestEnded((run) => run.clientToolCalls?.some((call) => call.id === callId) === true);
    return record === undefined ? undefined : { ...record };
  }

  /** The rows a turn stores: its user message, or the client's results for the calls its session awaits. */
  async #turnRows(turn: ChatTurn, runId: string, receivedAt: number): Promise<StoredMessage[]> {
    if (turn.toolResults === undefined || turn.toolResults.length === 0) {
      return [{ id: randomUUID(), role: 'user', content: userContent(turn), timestamp: receivedAt, runId, idempotencyKey: runId }];
    }
    const { messages } = await this.#store.history(turn.sessionKey, { limit: PENDING_CALL_SCAN_MESSAGES });
    return clientToolResultRows(turn.toolResults, pendingClientToolCalls(messages), runId, receivedAt);
  }

  drain(budgetMs: number): Promise<void> {
    this.#drain ??= this.#drainRuns(Math.max(0, budgetMs));
    return this.#drain;
  }

  async recoverInterruptedRuns(): Promise<number> {
    const skip = new Set(this.#registry.liveRuns().map((live) => live.record.runId));
    const { appended, recent, sessionsRead } = await repairInterruptedRuns(this.#store, {
      since: Date.now() - RUN_RECORD_TTL_MS,
      skip,
      onError: (sessionKey, error) => this.#logger?.warn('could not check a session for interrupted runs', { sessionKey, error: String(error) }),
    });
    for (const run of recent) {
      const { text, images } = turnParts(run.userMessage.content);
      const record: RunRecord = {
        runId: run.runId,
        sessionKey: run.sessionKey,
        status: run.status,
        startedAt: run.userMessage.timestamp,
        endedAt: run.endedAt,
        stopReason: run.stopReason,
        text: run.text,
      };
      if (run.error !== undefined) record.error = run.error;
      this.#registry.remember(record, fingerprintTurn(run.sessionKey, text, images));
    }
    for (const { sessionKey, message } of appended) {
      this.#bus.publish({ type: 'session.message', sessionKey, message, messageCount: this.#store.get(sessionKey)?.messageCount });
    }
    if (appended.length > 0) this.#logger?.warn('closed runs interrupted by a previous stop', { runs: appended.length, sessionsRead });
    return appended.length;
  }

  #schedule(live: LiveRun, turn: ChatTurn, userMessage: StoredMessage): void {
    const task = { sessionKey: turn.sessionKey, start: () => this.#execute(live, turn, userMessage) };
    live.phase = 'queued';
    // An aborted run that still waits for its turn ends now instead of after the runs ahead of it.
    live.cancelQueued = () => {
      if (!this.#scheduler.cancel(task)) return false;
      void task.start();
      return true;
    };
    if (live.controller.signal.aborted) void task.start();
    else this.#scheduler.enqueue(task);
  }

  async #execute(live: LiveRun, turn: ChatTurn, userMessage: StoredMessage): Promise<void> {
    live.cancelQueued = undefined;
    try {
      await executeRun(this.#deps, live, turn, userMessage);
    } catch (error) {
      this.#logger?.error('run failed unexpectedly', { runId: live.record.runId, error: String(error) });
      this.#endBroken(live, error);
    } finally {
      this.#registry.finish(live.record.runId);
    }
  }

  /** Keep "exactly one run.end" even when the run itself broke before publishing it. */
  #endBroken(live: LiveRun, error: unknown): void {
    const { record } = live;
    if (record.endedAt !== undefined) return;
    record.status = 'error';
    record.endedAt = Date.now();
    record.stopReason = 'error';
    record.error = `internal error: ${error instanceof Error ? error.message : String(error)}`;
    const progress = (live.progress ??= new RunProgress(record.runId, record.sessionKey, record.sessionId));
    this.#bus.publish(
      progress.event({
        type: 'run.end',
        status: 'error',
        error: record.error,
        stopReason: 'error',
        startedAt: record.startedAt,
        endedAt: record.endedAt,
        text: '',
        reply: progress.reply,
      }),
    );
  }

  async #drainRuns(budgetMs: number): Promise<void> {
    const started = Date.now();
    const abortAfterMs = budgetMs - Math.min(DRAIN_ABORT_GRACE_MS, budgetMs / 4);
    if (await this.#allEnded(abortAfterMs)) return;
    const live = this.#registry.liveRuns();
    this.#logger?.warn('aborting runs still going at the drain deadline', { runs: live.length });
    for (const run of live) {
      abortRun(run, 'shutdown');
      run.cancelQueued?.();
    }
    await this.#allEnded(budgetMs - (Date.now() - started));
  }

  /** True when every live run ended within timeoutMs. */
  async #allEnded(timeoutMs: number): Promise<boolean> {
    const pending = this.#registry.liveRuns().map((run) => run.ended);
    if (pending.length === 0) return true;
    if (timeoutMs <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
    try {
      return await Promise.race([Promise.all(pending).then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  #validate(turn: ChatTurn): void {
    if (typeof turn.sessionKey !== 'string' || turn.sessionKey === '') invalid('sessionKey is required');
    if (typeof turn.text !== 'string') invalid('message must be a string');
    const images = turn.images ?? [];
    if (!Array.isArray(images)) invalid('attachments must be a list');
    for (const image of images) {
      if (typeof image?.mediaType !== 'string' || !image.mediaType.startsWith('image/')) invalid('attachment must be an image with a mediaType like image/png');
      if (typeof image.data !== 'string' || image.data === '') invalid('attachment has no data');
    }
    const results = turn.toolResults ?? [];
    if (!Array.isArray(results)) invalid('toolResults must be a list');
    for (const result of results) {
      if (typeof result?.output !== 'string') invalid('a tool result must have a string output');
      if (typeof result.callId !== 'string' && typeof result.name !== 'string') invalid('a tool result must name its call (callId) or its tool (name)');
    }
    if (results.length > 0 && (turn.text !== '' || images.length > 0)) invalid('a turn carries either a message or tool results, not both');
    if (turn.clientTools !== undefined) checkClientToolNames(turn.clientTools, this.#deps.tools() ?? []);
    if (results.length === 0 && turn.text.trim() === '' && images.length === 0) invalid('message must not be empty', 'EMPTY_MESSAGE');
    if (turn.text.length > this.#maxMessageChars) {
      invalid(`message too long: ${turn.text.length} characters (limit ${this.#maxMessageChars})`, 'MESSAGE_TOO_LONG');
    }
    const key = turn.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length > MAX_IDEMPOTENCY_KEY_CHARS)) {
      invalid(`idempotencyKey must be a string of at most ${MAX_IDEMPOTENCY_KEY_CHARS} characters`);
    }
  }
}

/** Text the idempotency fingerprint covers: the message, and the tool results when the turn carries them. */
function turnFingerprintText(turn: ChatTurn): string {
  const results = turn.toolResults ?? [];
  return results.length === 0 ? turn.text : `${turn.text}\0${JSON.stringify(results.map((r) => [r.callId ?? null, r.name ?? null, r.output]))}`;
}

/** Images first, then the text exactly as received (WebClaw matches on it, docs/protocol.md §5.1–5.2). */
function userContent(turn: ChatTurn): ContentBlock[] {
  const content: ContentBlock[] = (turn.images ?? []).map((image) => ({
    type: 'image',
    source: { type: 'base64', media_type: image.mediaType, data: image.data },
  }));
  if (turn.text !== '') content.push({ type: 'text', text: turn.text });
  return content;
}

/** Inverse of userContent, for fingerprints of stored turns. */
function turnParts(content: ContentBlock[]): { text: string; images: { mediaType: string; data: string }[] } {
  let text = '';
  const images: { mediaType: string; data: string }[] = [];
  for (const block of content) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'image') images.push({ mediaType: block.source.media_type, data: block.source.data });
  }
  return { text, images };
}

function invalid(message: string, code?: DetailCode): never {
  throw code === undefined ? new GatewayError('INVALID_REQUEST', message) : detailError(code, message);
}

function requirePositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

function constant<T>(value: T): () => T {
  return () => value;
}
