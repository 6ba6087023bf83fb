/**
 * What the agent publishes about runs, and the service channels call to start,
 * abort and await them. Channels map RunEvents onto their wire protocols.
 */

import type { SchedulerEvent } from '../bus/scheduler-events.js';
import type { ContentBlock, ToolCallBlock, Usage } from '../messages/types.js';
import type { FailedModelCall, ToolSpec } from '../providers/types.js';
import type { SessionMeta, StoredMessage } from '../sessions/types.js';

export type RunStatus = 'ok' | 'error' | 'aborted';

/** The reply of a run so far: its assistant text across messages, then the tool calls it made. */
export interface ReplySoFar {
  text: string;
  toolCalls: ToolCallBlock[];
}

/** Fields every run event carries, so a consumer needs no state of its own and no store look-up. */
interface RunEventBase {
  runId: string;
  sessionKey: string;
  /** The session's id when the run started (absent if the session was gone). */
  sessionId?: string;
  /** 1, 2, 3, … per run, in publish order. */
  seq: number;
}

/** Events of one run, published on the bus in this order:
 * run.start → (model | text.delta | thinking.delta | tool.call | tool.result | usage)* → run.end.
 * `model` says another model than the one last announced answers from here on (failover). 
 * Exactly one run.end per run, and nothing for that run after it. The final
 * assistant message is persisted before run.end is published. Deltas are
 * never empty. */
export type RunEvent = RunEventBase &
  (
    | { type: 'run.start'; startedAt: number; provider: string; model: string }
    | {
        type: 'text.delta';
        delta: string;
        /** Text of the current assistant message so far. */
        text: string;
        /** 1-based index of the current assistant message in the run (a new one starts after tool calls). */
        itemIndex: number;
        reply: ReplySoFar;
      }
    | { type: 'thinking.delta'; delta: string; text: string }
    | { type: 'tool.call'; toolCallId: string; name: string; arguments: Record<string, unknown>; reply: ReplySoFar }
    | { type: 'tool.result'; toolCallId: string; name: string; content: ContentBlock[]; isError: boolean }
    /** Running total of the run so far. */
    | { type: 'usage'; usage: Usage }
    | { type: 'model'; provider: string; model: string; failedOver?: FailedModelCall[] }
    | {
        type: 'run.end';
        status: RunStatus;
        /** The persisted assistant message (partial when aborted; may be absent if nothing was produced). */
        message?: StoredMessage;
        error?: string;
        /** 'rpc' after an abort call, else the model's reason. */
        stopReason: string;
        startedAt: number;
        endedAt: number;
        /** The reply text: the last assistant message that has any ('' when none). */
        text: string;
        /** What was streamed, for consumers that show the run as it went. */
        reply: ReplySoFar;
        /** Usage summed over the run's model calls; absent when no model was called. */
        usage?: Usage;
        /** The session's message count once the run's messages are stored: the final message's seq. */
        messageCount?: number;
        /** Calls to the turn's client tools the run stopped at (stopReason `toolUse`): the client runs them. */
        clientToolCalls?: ToolCallBlock[];
      }
  );

/** Why a session changed. */
export type SessionChange = 'created' | 'patched' | 'reset' | 'deleted' | 'run.start' | 'run.end';

/** Session-level events, for subscribers of sessions.* events. Each carries what a consumer shows. */
export type SessionEvent =
  | {
      type: 'session.message';
      sessionKey: string;
      message: StoredMessage;
      /** The session's message count with this message: its 1-based seq. */
      messageCount?: number;
      /** Added by chat.inject rather than by a run. */
      injected?: boolean;
    }
  | {
      type: 'session.changed';
      sessionKey: string;
      reason: SessionChange;
      /** The session as it is now; absent once deleted. */
      session?: SessionMeta;
      /** A run of the session that is running, if any. */
      activeRunId?: string;
    };

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
  /**
   * Function tools the client runs itself (the OpenAI-compatible API's
   * `tools`), offered beside the gateway's own. A call to one ends the run;
   * the calls come back in run.end's `clientToolCalls`.
   */
  clientTools?: ToolSpec[];
  /**
   * The client's results for calls a run of this session handed back. With
   * them the turn has no text: the results are stored and the conversation
   * continues from them.
   */
  toolResults?: ClientToolResult[];
}

/** A client's result for one handed-back tool call. */
export interface ClientToolResult {
  /** The call's id; without one, the oldest unanswered call named `name`. */
  callId?: string;
  name?: string;
  /** The result text ('' is a valid, empty result). */
  output: string;
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
  /** The session's id when the run started. */
  sessionId?: string;
  startedAt: number;
  endedAt?: number;
  stopReason?: string;
  error?: string;
  /** Final assistant text. */
  text?: string;
  usage?: Usage;
  provider?: string;
  model?: string;
  /** Calls to client tools the run stopped at. */
  clientToolCalls?: ToolCallBlock[];
}

/** A turn whose user message is on disk, told to the caller before its run is queued. */
export interface AcceptedTurn {
  runId: string;
  sessionKey: string;
  /** What the turn stored: its user message, or the client's tool results. */
  messages: StoredMessage[];
  /** The session with the user message in it. */
  session: SessionMeta;
  /** True when this message created the session. */
  created: boolean;
}

export interface AgentService {
  /** Store the user message durably (fsync), then queue the run. Rejects with
   * GatewayError on bad input or storage failure; nothing is written then.
   * A repeated idempotencyKey returns the existing run and starts nothing.
   * `onAccepted` runs once the message is stored and before the run can
   * publish anything: the façade announces the message there. */
  submit(turn: ChatTurn, onAccepted?: (accepted: AcceptedTurn) => void): Promise<SubmitResult>;
  /** Abort active runs of a session (all, or only `runId`). Returns the aborted runIds. */
  abort(sessionKey: string, runId?: string): string[];
  /** Resolve when the run ends or after timeoutMs; undefined when the runId is unknown. */
  wait(runId: string, timeoutMs: number): Promise<RunRecord | undefined>;
  getRun(runId: string): RunRecord | undefined;
  /** Runs currently active, any session. */
  activeRuns(): RunRecord[];
  /** The newest remembered run that handed the tool call `callId` to the client. */
  runAwaitingToolCall(callId: string): RunRecord | undefined;
  /** Stop accepting turns; resolve when running runs end or after budgetMs (then abort them). */
  drain(budgetMs: number): Promise<void>;
}
