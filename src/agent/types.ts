/**
 * What the agent publishes about runs, and the service channels call to start,
 * abort and await them. Channels map RunEvents onto their wire protocols.
 */

import type { SchedulerEvent } from '../bus/scheduler-events.js';
import type { ContentBlock, Usage } from '../messages/types.js';
import type { FailedModelCall } from '../providers/types.js';
import type { StoredMessage } from '../sessions/types.js';

export type RunStatus = 'ok' | 'error' | 'aborted';

/** Events of one run, published on the bus in this order:
 * run.start → (model | text.delta | thinking.delta | tool.call | tool.result | usage)* → run.end.
 * `model` says another model than the one last announced answers from here on (failover). 
 * Exactly one run.end per run, and nothing for that run after it. The final
 * assistant message is persisted before run.end is published. */
export type RunEvent =
  | { type: 'run.start'; runId: string; sessionKey: string; startedAt: number; provider: string; model: string }
  | { type: 'text.delta'; runId: string; sessionKey: string; delta: string; text: string }
  | { type: 'thinking.delta'; runId: string; sessionKey: string; delta: string; text: string }
  | { type: 'tool.call'; runId: string; sessionKey: string; toolCallId: string; name: string; arguments: Record<string, unknown> }
  | { type: 'tool.result'; runId: string; sessionKey: string; toolCallId: string; name: string; content: ContentBlock[]; isError: boolean }
  | { type: 'usage'; runId: string; sessionKey: string; usage: Usage }
  | { type: 'model'; runId: string; sessionKey: string; provider: string; model: string; failedOver?: FailedModelCall[] }
  | {
      type: 'run.end';
      runId: string;
      sessionKey: string;
      status: RunStatus;
      /** The persisted assistant message (partial when aborted; may be absent if nothing was produced). */
      message?: StoredMessage;
      error?: string;
      /** 'rpc' after an abort call, else the model's reason. */
      stopReason: string;
      startedAt: number;
      endedAt: number;
    };

/** Session-level events, for subscribers of sessions.* events. */
export type SessionEvent =
  | { type: 'session.message'; sessionKey: string; message: StoredMessage }
  | { type: 'session.changed'; sessionKey: string; reason: 'created' | 'patched' | 'reset' | 'deleted' | 'run.start' | 'run.end' };

export type AgentEvent = RunEvent | SessionEvent | SchedulerEvent;

export interface ChatTurn {
  /** Canonical session key. */
  sessionKey: string;
  text: string;
  images?: { mediaType: string; data: string }[];
  /** Becomes the runId; generated when absent. */
  idempotencyKey?: string;
  thinking?: 'low' | 'medium' | 'high';
  /** Overall run timeout, ms. */
  timeoutMs?: number;
  extraSystemPrompt?: string;
}

/** Result of submitting a turn. `started`: a new run; other values: an existing run with that key. */
export interface SubmitResult {
  runId: string;
  status: 'started' | 'in_flight' | RunStatus;
  /** The stored user message (only when started). */
  userMessage?: StoredMessage;
}

export interface RunRecord {
  runId: string;
  sessionKey: string;
  status: 'running' | RunStatus;
  startedAt: number;
  endedAt?: number;
  stopReason?: string;
  error?: string;
  /** Final assistant text. */
  text?: string;
  usage?: Usage;
  provider?: string;
  model?: string;
}

export interface AgentService {
  /** Store the user message durably (fsync), then queue the run. Rejects with
   * GatewayError on bad input or storage failure; nothing is written then.
   * A repeated idempotencyKey returns the existing run and starts nothing. */
  submit(turn: ChatTurn): Promise<SubmitResult>;
  /** Abort active runs of a session (all, or only `runId`). Returns the aborted runIds. */
  abort(sessionKey: string, runId?: string): string[];
  /** Resolve when the run ends or after timeoutMs; undefined when the runId is unknown. */
  wait(runId: string, timeoutMs: number): Promise<RunRecord | undefined>;
  getRun(runId: string): RunRecord | undefined;
  /** Runs currently active, any session. */
  activeRuns(): RunRecord[];
  /** Stop accepting turns; resolve when running runs end or after budgetMs (then abort them). */
  drain(budgetMs: number): Promise<void>;
}
