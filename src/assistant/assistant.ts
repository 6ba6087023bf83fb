/**
 * The assistant façade (types.ts describes the contract): session
 * operations over the store, runs through the agent service, announcements
 * on the bus. Channels hold an Assistant and nothing below it.
 */

import { randomUUID } from 'node:crypto';

import type { AcceptedTurn, AgentEvent, AgentService, ChatTurn, RunEvent, RunRecord, SessionChange, SubmitResult } from '../agent/types.js';
import type { OutboundBus, Subscription } from '../bus/types.js';
import { GatewayError } from '../protocol/errors.js';
import { MAIN_SESSION_KEY } from '../sessions/session-key.js';
import type { HistoryQuery, SessionMeta, SessionStore, StoredMessage } from '../sessions/types.js';
import { MAIN_AGENT_ID } from '../config/agents-config.js';
import { resolveIdentity, type AssistantIdentity, type IdentitySource } from './identity.js';
import { SessionLanes } from './session-lanes.js';
import type { Assistant, InjectInput, SessionHistory, SessionPatch, WatchRunOptions } from './types.js';

/** How long reset and delete wait for aborted runs to write their partial reply, ms. */
export const ABORT_SETTLE_MS = 5_000;
/** Provider and model recorded on injected messages. */
export const INJECTED_PROVIDER = 'pincer';
export const INJECTED_MODEL = 'gateway-injected';

export interface AssistantDeps {
  store: SessionStore;
  bus: OutboundBus<AgentEvent>;
  agent: AgentService;
  /** Sessions `list` shows (default all): those of removed agents stay stored but hidden. */
  listed?: (sessionKey: string) => boolean;
  /** Clock, epoch ms. */
  now?: () => number;
  /** Where the assistant's name and avatar come from (default: "Assistant"). */
  identity?: IdentitySource;
  /** Where one agent's name and avatar come from; undefined falls back to `identity`. */
  identityOf?: (agentId: string) => IdentitySource | undefined;
}

/** Build the façade over a store, a bus and an agent service. */
export function createAssistant(deps: AssistantDeps): Assistant {
  return new AssistantFacade(deps);
}

class AssistantFacade implements Assistant {
  readonly #store: SessionStore;
  readonly #bus: OutboundBus<AgentEvent>;
  readonly #agent: AgentService;
  readonly #now: () => number;
  readonly #listed: ((sessionKey: string) => boolean) | undefined;
  readonly #lanes = new SessionLanes();
  readonly #identity: IdentitySource;
  readonly #identityOf: ((agentId: string) => IdentitySource | undefined) | undefined;

  constructor(deps: AssistantDeps) {
    this.#store = deps.store;
    this.#bus = deps.bus;
    this.#agent = deps.agent;
    this.#now = deps.now ?? Date.now;
    this.#listed = deps.listed;
    this.#identity = deps.identity ?? {};
    this.#identityOf = deps.identityOf;
  }

  send(turn: ChatTurn): Promise<SubmitResult> {
    // Announced between the write and the queueing, so watchers see the user message before any event of its run.
    return this.#lanes.run(turn.sessionKey, () => this.#agent.submit(turn, (accepted) => this.#announceTurn(accepted)));
  }

  abort(sessionKey: string, runId?: string): string[] {
    return this.#agent.abort(sessionKey, runId);
  }

  wait(runId: string, timeoutMs: number): Promise<RunRecord | undefined> {
    return this.#agent.wait(runId, timeoutMs);
  }

  run(runId: string): RunRecord | undefined {
    return this.#agent.getRun(runId);
  }

  watchRun(runId: string, onEvent: (event: RunEvent) => void, options: WatchRunOptions = {}): Subscription {
    return this.#bus.subscribe((event) => onEvent(event as RunEvent), {
      filter: (event) => isRunEvent(event) && event.runId === runId,
      onOverflow: options.onLost,
    });
  }

  inject(sessionKey: string, input: InjectInput): Promise<StoredMessage> {
    return this.#lanes.run(sessionKey, async () => {
      const text = input.label === undefined || input.label === '' ? input.text : `[${input.label}]\n\n${input.text}`;
      const isNew = this.#store.get(sessionKey) === undefined;
      // A message no run produced: it has no runId, so it never shares the key space of client idempotency keys.
      const message: StoredMessage = {
        id: randomUUID(),
        role: 'assistant',
        content: [{ type: 'text', text }],
        timestamp: this.#now(),
        stopReason: 'stop',
        usage: { input: 0, output: 0, totalTokens: 0, cacheRead: 0, cacheWrite: 0 },
        provider: INJECTED_PROVIDER,
        model: input.model ?? INJECTED_MODEL,
      };
      const meta = await this.#store.append(sessionKey, message);
      if (isNew) this.#announce(sessionKey, 'created', meta);
      this.#bus.publish({ type: 'session.message', sessionKey, message, messageCount: meta.messageCount, injected: true });
      return message;
    });
  }

  async history(sessionKey: string, query?: HistoryQuery): Promise<SessionHistory> {
    const page: SessionHistory = await this.#store.history(sessionKey, query);
    const sessionId = this.#store.get(sessionKey)?.sessionId;
    if (sessionId !== undefined) page.sessionId = sessionId;
    return page;
  }

  list(): SessionMeta[] {
    const listed = this.#listed;
    const sessions = this.#store.list();
    return listed === undefined ? sessions : sessions.filter((session) => listed(session.key));
  }

  runAwaitingToolCall(callId: string): RunRecord | undefined {
    return this.#agent.runAwaitingToolCall(callId);
  }

  activeSessionKeys(): Set<string> {
    return new Set(this.#agent.activeRuns().map((run) => run.sessionKey));
  }

  activeRuns(sessionKey: string): RunRecord[] {
    return this.#agent
      .activeRuns()
      .filter((run) => run.sessionKey === sessionKey)
      .sort((a, b) => a.startedAt - b.startedAt);
  }

  identity(agentId = MAIN_AGENT_ID): Promise<AssistantIdentity> {
    return resolveIdentity(this.#identityOf?.(agentId) ?? this.#identity);
  }

  describe(sessionKey: string): SessionMeta | undefined {
    return this.#store.get(sessionKey);
  }

  create(sessionKey: string): Promise<SessionMeta> {
    return this.patch(sessionKey, {});
  }

  patch(sessionKey: string, patch: SessionPatch): Promise<SessionMeta> {
    return this.#lanes.run(sessionKey, async () => {
      const existed = this.#store.get(sessionKey) !== undefined;
      let meta = patch.label === undefined ? await this.#store.ensure(sessionKey) : await this.#store.setLabel(sessionKey, labelOf(patch.label));
      if (patch.model !== undefined) meta = await this.#store.setModel(sessionKey, patch.model);
      if (!existed) this.#announce(sessionKey, 'created', meta);
      else if (patch.label !== undefined || patch.model !== undefined) this.#announce(sessionKey, 'patched', meta);
      return meta;
    });
  }

  reset(sessionKey: string): Promise<SessionMeta | undefined> {
    return this.#lanes.run(sessionKey, async () => {
      // The main session exists from the start (created lazily); any other must exist to be reset.
      if (sessionKey !== MAIN_SESSION_KEY && this.#store.get(sessionKey) === undefined) return undefined;
      await this.#stopRuns(sessionKey);
      // History after a reset is empty; no reset marker row (WebClaw renders only user/assistant/toolResult).
      if (!(await this.#store.reset(sessionKey))) await this.#store.ensure(sessionKey);
      const meta = this.#store.get(sessionKey) ?? (await this.#store.ensure(sessionKey));
      this.#announce(sessionKey, 'reset', meta);
      return meta;
    });
  }

  delete(sessionKey: string): Promise<boolean> {
    if (sessionKey === MAIN_SESSION_KEY) return Promise.reject(new GatewayError('INVALID_REQUEST', 'cannot delete the main session'));
    return this.#lanes.run(sessionKey, async () => {
      if (this.#store.get(sessionKey) === undefined) return false;
      await this.#stopRuns(sessionKey);
      const deleted = await this.#store.delete(sessionKey);
      if (deleted) this.#announce(sessionKey, 'deleted', undefined);
      return deleted;
    });
  }

  /** Abort the session's runs and let them settle, so nothing writes to it afterwards. */
  async #stopRuns(sessionKey: string): Promise<void> {
    const runIds = this.#agent.abort(sessionKey);
    await Promise.all(runIds.map((runId) => this.#agent.wait(runId, ABORT_SETTLE_MS)));
  }

  #announceTurn({ sessionKey, messages, session, created }: AcceptedTurn): void {
    if (created) this.#bus.publish({ type: 'session.changed', sessionKey, reason: 'created', session });
    // Rows were appended in order, so the first of them has seq messageCount - (n - 1).
    const first = session.messageCount - messages.length + 1;
    messages.forEach((message, index) => {
      this.#bus.publish({ type: 'session.message', sessionKey, message, messageCount: first + index });
    });
  }

  #announce(sessionKey: string, reason: SessionChange, session: SessionMeta | undefined): void {
    const activeRunId = this.#agent.activeRuns().find((run) => run.sessionKey === sessionKey)?.runId;
    this.#bus.publish({ type: 'session.changed', sessionKey, reason, session, activeRunId });
  }
}

function isRunEvent(event: AgentEvent): event is RunEvent {
  return event.type !== 'session.message' && event.type !== 'session.changed' && event.type !== 'cron' && event.type !== 'heartbeat';
}

/** A blank label clears it, like null. */
function labelOf(label: string | null): string | null {
  if (label === null) return null;
  const trimmed = label.trim();
  return trimmed === '' ? null : trimmed;
}
