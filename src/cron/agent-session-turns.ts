/**
 * SessionTurns for the scheduler and the heartbeat, over the assistant
 * façade: it stores and announces every turn, reset and posted message,
 * so the scheduler never writes to the session store itself.
 */

import type { Assistant } from '../assistant/types.js';
import type { SessionTurns, TurnResult } from './session-turns.js';

/** Recorded as the model of messages the scheduler posts. */
export const SCHEDULER_MODEL = 'scheduler';
/** How long one wait on the agent lasts before checking again, ms. */
const WAIT_SLICE_MS = 60_000;

export interface AgentSessionTurnsDeps {
  assistant: Pick<Assistant, 'send' | 'wait' | 'describe' | 'reset' | 'create' | 'inject'>;
}

/** Build the SessionTurns the scheduler and the heartbeat use. */
export function createAgentSessionTurns(deps: AgentSessionTurnsDeps): SessionTurns {
  const { assistant } = deps;
  return {
    sessionExists: (sessionKey) => assistant.describe(sessionKey) !== undefined,

    async resetSession(sessionKey) {
      // reset answers undefined for a session that does not exist yet: an isolated job's first run creates it.
      if ((await assistant.reset(sessionKey)) === undefined) await assistant.create(sessionKey);
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
      // Announced like chat.inject: chat watchers (WebClaw, the web chat) see it as one finished reply.
      await assistant.inject(sessionKey, { text, model: SCHEDULER_MODEL });
    },
  };
}
