/**
 * What the scheduler needs from the rest of the assistant: run one agent turn
 * in a session and wait for it, start an isolated session afresh, and post a
 * finished message into a session for watchers to see. The one
 * implementation over the AgentService lives in agent-session-turns.ts.
 */

export interface TurnResult {
  runId: string;
  status: 'ok' | 'error' | 'aborted';
  /** The final assistant text ('' when none). */
  text: string;
  error?: string;
}

export interface TurnRequest {
  /** Canonical session key. */
  sessionKey: string;
  text: string;
  /** Becomes the run's id; a retry with the same id never runs twice. */
  runId: string;
  /** Overall run timeout, ms (the agent's default when absent). */
  timeoutMs?: number;
}

export interface SessionTurns {
  sessionExists(sessionKey: string): boolean;
  /** Empty the session's transcript (it is created when missing). */
  resetSession(sessionKey: string): Promise<void>;
  /**
   * Run one turn and resolve when it has ended (ok, error or aborted).
   * Rejects only when the turn could not be accepted (bad input, shutdown,
   * storage failure); the run's own failures resolve with status `error`.
   */
  runTurn(request: TurnRequest): Promise<TurnResult>;
  /** Append an assistant message with `text` and announce it to clients watching the session. */
  postMessage(sessionKey: string, text: string): Promise<void>;
}
