/**
 * SessionTurns for the scheduler and the heartbeat: turns go through the
 * assistant façade (which stores and announces the user message), the
 * session reset and posted messages over the store and the bus.
 */

import { randomUUID } from 'node:crypto';
import type { AgentEvent } from '../agent/types.js';
import type { Assistant } from '../assistant/types.js';
import type { OutboundBus } from '../bus/types.js';
import type { SessionStore, StoredMessage } from '../sessions/types.js';
import type { SessionTurns, TurnResult } from './session-turns.js';

/** Runs announced by postMessage carry this prefix; the OpenClaw channel shows them as one final chat event. */
export const POSTED_RUN_PREFIX = 'inject-';
/** How long one wait on the agent lasts before checking again, ms. */
const WAIT_SLICE_MS = 60_000;

export interface AgentSessionTurnsDeps {
  /** Runs the turns: send, then wait for the run's end. */
  assistant: Pick<Assistant, 'send' | 'wait'>;
  store: SessionStore;
  bus: OutboundBus<AgentEvent>;
  now?: () => number;
}

/** Build the SessionTurns the scheduler and the heartbeat use. */
export function createAgentSessionTurns(deps: AgentSessionTurnsDeps): SessionTurns {
  const { assistant, store, bus } = deps;
  const now = deps.now ?? Date.now;
  return {
    sessionExists: (sessionKey) => store.get(sessionKey) !== undefined,

    async resetSession(sessionKey) {
      const existed = await store.reset(sessionKey);
      if (!existed) await store.ensure(sessionKey);
      bus.publish({ type: 'session.changed', sessionKey, reason: existed ? 'reset' : 'created', session: store.get(sessionKey) });
    },

    async runTurn(request): Promise<TurnResult> {
      const submitted = await assistant.send({
        sessionKey: request.sessionKey,
        text: request.text,
        idempotencyKey: request.runId,
        ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
      });
      for (;;) {
        const record = await assistant.wait(submitted.runId, WAIT_SLICE_MS);
        if (record === undefined) return { runId: submitted.runId, status: 'error', text: '', error: 'run record lost' };
        if (record.status === 'running') continue;
        const result: TurnResult = { runId: record.runId, status: record.status, text: record.text ?? '' };
        if (record.error !== undefined) result.error = record.error;
        return result;
      }
    },

    async postMessage(sessionKey, text) {
      const id = randomUUID();
      const runId = `${POSTED_RUN_PREFIX}${id}`;
      const timestamp = now();
      const isNew = store.get(sessionKey) === undefined;
      const message: StoredMessage = {
        id,
        role: 'assistant',
        content: [{ type: 'text', text }],
        timestamp,
        runId,
        stopReason: 'stop',
        usage: { input: 0, output: 0, totalTokens: 0, cacheRead: 0, cacheWrite: 0 },
        provider: 'pincer',
        model: 'scheduler',
      };
      await store.append(sessionKey, message);
      const session = store.get(sessionKey);
      if (isNew) bus.publish({ type: 'session.changed', sessionKey, reason: 'created', session });
      // Announced like chat.inject: chat watchers (WebClaw, the web chat) see it as one finished reply.
      bus.publish({ type: 'session.message', sessionKey, message, messageCount: session?.messageCount, injected: true });
    },
  };
}
