/**
 * A scripted AgentService for handler tests: it keeps the AgentService
 * contract (user message stored before submit resolves, events on the real
 * bus in order, one run.end, partial reply persisted on abort) while letting
 * a test choose each run's deltas, failure or refusal. Runs that are not
 * scripted to end wait for abort.
 */

import { randomUUID } from 'node:crypto';
import { RunProgress } from '../../../src/agent/run-progress.js';
import type { AgentEvent, AgentService, ChatTurn, RunRecord, RunStatus, SubmitResult } from '../../../src/agent/types.js';
import type { OutboundBus } from '../../../src/bus/types.js';
import type { GatewayError } from '../../../src/protocol/errors.js';
import type { Usage } from '../../../src/messages/types.js';
import type { SessionStore, StoredMessage } from '../../../src/sessions/types.js';

export interface RunScript {
  deltas: string[];
  /** Pause between deltas, ms. */
  delayMs?: number;
  /** End the run with this status (default ok). `hang`: keep running until aborted. */
  end?: 'ok' | 'error' | 'hang';
  error?: string;
  stopReason?: string;
  usage?: Usage;
}

export const DEFAULT_USAGE: Usage = { input: 10, output: 12, totalTokens: 22 };

export class ScriptedAgent implements AgentService {
  readonly turns: ChatTurn[] = [];
  readonly aborts: { sessionKey: string; runId?: string }[] = [];
  script: RunScript = { deltas: ['Hello', ' from', ' the', ' fake', ' model.'] };
  /** When set, the next submits reject with it. */
  refuse: GatewayError | undefined;
  readonly #bus: OutboundBus<AgentEvent>;
  readonly #store: SessionStore;
  readonly #records = new Map<string, RunRecord>();
  readonly #abortHooks = new Map<string, () => void>();
  readonly #ended = new Map<string, Promise<void>>();

  constructor(bus: OutboundBus<AgentEvent>, store: SessionStore) {
    this.#bus = bus;
    this.#store = store;
  }

  async submit(turn: ChatTurn): Promise<SubmitResult> {
    if (this.refuse !== undefined) throw this.refuse;
    this.turns.push(turn);
    const runId = turn.idempotencyKey ?? randomUUID();
    const userMessage: StoredMessage = {
      id: randomUUID(),
      role: 'user',
      content: [{ type: 'text', text: turn.text }],
      timestamp: Date.now(),
      runId,
      idempotencyKey: turn.idempotencyKey,
    };
    await this.#store.append(turn.sessionKey, userMessage);
    const record: RunRecord = { runId, sessionKey: turn.sessionKey, status: 'running', startedAt: Date.now() };
    this.#records.set(runId, record);
    this.#ended.set(runId, this.#run(turn.sessionKey, runId, { ...this.script }));
    return { runId, status: 'started', userMessage };
  }

  abort(sessionKey: string, runId?: string): string[] {
    this.aborts.push({ sessionKey, runId });
    const hook = runId === undefined ? undefined : this.#abortHooks.get(runId);
    if (hook === undefined || runId === undefined) return [];
    hook();
    return [runId];
  }

  runAwaitingToolCall(): RunRecord | undefined {
    return undefined;
  }

  async wait(runId: string, timeoutMs: number): Promise<RunRecord | undefined> {
    const ended = this.#ended.get(runId);
    if (ended === undefined) return undefined;
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    return this.#records.get(runId);
  }

  getRun(runId: string): RunRecord | undefined {
    return this.#records.get(runId);
  }

  activeRuns(): RunRecord[] {
    return [...this.#records.values()].filter((record) => record.status === 'running');
  }

  async drain(): Promise<void> {
    await Promise.all(this.#ended.values());
  }

  async #run(sessionKey: string, runId: string, script: RunScript): Promise<void> {
    let aborted = false;
    let wake: () => void = () => {};
    this.#abortHooks.set(runId, () => {
      aborted = true;
      wake();
    });
    const pause = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        wake = resolve;
        if (ms !== Infinity) setTimeout(resolve, ms);
      });
    const startedAt = Date.now();
    const progress = new RunProgress(runId, sessionKey, this.#store.get(sessionKey)?.sessionId);
    this.#bus.publish(progress.event({ type: 'run.start', startedAt, provider: 'scripted', model: 'scripted' }));
    let text = '';
    for (const delta of script.deltas) {
      await pause(script.delayMs ?? 1);
      if (aborted) break;
      text += delta;
      const event = progress.fromLoop({ type: 'text.delta', delta, text });
      if (event !== undefined) this.#bus.publish(event);
    }
    if (!aborted && script.end === 'hang') await pause(Infinity);
    const usage = script.usage ?? DEFAULT_USAGE;
    const status: RunStatus = aborted ? 'aborted' : script.end === 'error' ? 'error' : 'ok';
    if (status === 'ok') this.#bus.publish(progress.event({ type: 'usage', usage }));
    const message: StoredMessage = {
      id: randomUUID(),
      role: 'assistant',
      content: text === '' ? [] : [{ type: 'text', text }],
      timestamp: Date.now(),
      runId,
      usage,
      stopReason: status === 'aborted' ? 'aborted' : status === 'error' ? 'error' : 'stop',
      errorMessage: status === 'error' ? script.error : undefined,
    };
    const meta = await this.#store.append(sessionKey, message);
    const stopReason = aborted ? 'rpc' : (script.stopReason ?? (status === 'error' ? 'error' : 'stop'));
    this.#records.set(runId, {
      runId,
      sessionKey,
      status,
      startedAt,
      endedAt: Date.now(),
      stopReason,
      error: status === 'error' ? script.error : undefined,
      text,
      usage,
    });
    this.#abortHooks.delete(runId);
    this.#bus.publish(
      progress.event({
        type: 'run.end',
        status,
        message,
        error: status === 'error' ? script.error : undefined,
        stopReason,
        startedAt,
        endedAt: Date.now(),
        text,
        reply: progress.reply,
        usage,
        messageCount: meta.messageCount,
      }),
    );
  }
}
