/**
 * What a channel may ask of the assistant: the one interface every channel
 * (OpenClaw WebSocket, OpenAI-compatible HTTP, and those to come) calls.
 * Channels validate their params, call one of these, and shape the answer.
 */

import type { ChatTurn, RunEvent, RunRecord, SubmitResult } from '../agent/types.js';
import type { Subscription } from '../bus/types.js';
import type { HistoryPage, HistoryQuery, SessionMeta, StoredMessage } from '../sessions/types.js';
import type { AssistantIdentity } from './identity.js';

/** A page of history plus the session's id (absent for a session that does not exist yet). */
export interface SessionHistory extends HistoryPage {
  sessionId?: string;
}

export interface InjectInput {
  text: string;
  /** Shown as `[label]` above the text. */
  label?: string;
  /** Recorded as the message's model, naming what posted it (default `gateway-injected`). */
  model?: string;
}

export interface SessionPatch {
  /** A string sets the label, null or blank clears it, undefined leaves it. */
  label?: string | null;
  /** A configured `kind/model` to answer this session, null to return to the configured chain, undefined leaves it. */
  model?: string | null;
}

export interface WatchRunOptions {
  /** The watcher fell behind and lost events; it should read the run with `wait` instead. */
  onLost?: () => void;
}

/**
 * The assistant façade. Session keys are canonical (channels canonicalise
 * what clients send). Methods reject with GatewayError for what the client
 * can fix or retry; the error table (protocol/errors.ts) says how each
 * channel renders it.
 *
 * The assistant layer is the only writer of the session store and the only
 * publisher of session changes; session-level writes of one session run in
 * that session's lane, one at a time.
 */
export interface Assistant {
  /**
   * Accept a turn: the user message is on disk when this resolves, then the
   * run is queued in the session's lane of runs. A repeated idempotency key
   * answers with the existing run (`in_flight`, `ok`, …) and starts nothing.
   * Progress follows as RunEvents: call `watchRun` first to see all of them.
   * A turn may bring client tools (`clientTools`): a call to one ends the
   * run and comes back in run.end's `clientToolCalls`; the next turn then
   * carries the client's `toolResults` instead of text, and the stored
   * results are announced like the user message.
   */
  send(turn: ChatTurn): Promise<SubmitResult>;
  /** Abort the session's active runs (all, or only `runId`). Returns the aborted runIds. */
  abort(sessionKey: string, runId?: string): string[];
  /** The run's record once it ends, or as it is after timeoutMs; undefined for an unknown run. */
  wait(runId: string, timeoutMs: number): Promise<RunRecord | undefined>;
  /** The run's record now (live or ended within the last 10 minutes). */
  run(runId: string): RunRecord | undefined;
  /** The newest run (ended within the last 10 minutes) that handed tool call `callId` to the client. */
  runAwaitingToolCall(callId: string): RunRecord | undefined;
  /** Receive the events of one run, in order, until `unsubscribe`. Subscribe before `send` to miss none. */
  watchRun(runId: string, onEvent: (event: RunEvent) => void, options?: WatchRunOptions): Subscription;
  /** Append an assistant message that no run produced (chat.inject, scheduled posts) and announce it, creating the session when new. */
  inject(sessionKey: string, input: InjectInput): Promise<StoredMessage>;
  /** The newest messages of a session, oldest first; an unknown session gives an empty page. */
  history(sessionKey: string, query?: HistoryQuery): Promise<SessionHistory>;
  /** Every session, newest activity first. */
  list(): SessionMeta[];
  /** Keys of sessions with a live run (accepted, queued or running). */
  activeSessionKeys(): Set<string>;
  /** The live runs of one session, oldest first. */
  activeRuns(sessionKey: string): RunRecord[];
  /** An agent's name and avatar (default `main`): config, then its workspace's IDENTITY.md, then "Assistant". */
  identity(agentId?: string): Promise<AssistantIdentity>;
  /** One session, or undefined when it does not exist. */
  describe(sessionKey: string): SessionMeta | undefined;
  /** The session, created (and announced) when it did not exist. */
  create(sessionKey: string): Promise<SessionMeta>;
  /** Change a session's settings, creating it when new. */
  patch(sessionKey: string, patch: SessionPatch): Promise<SessionMeta>;
  /**
   * Stop the session's runs, then drop its messages (key, id and label stay).
   * The main session is created when missing; any other unknown session gives undefined.
   */
  reset(sessionKey: string): Promise<SessionMeta | undefined>;
  /**
   * Stop the session's runs, then remove it. False when it did not exist.
   * The main session cannot be deleted (INVALID_REQUEST).
   */
  delete(sessionKey: string): Promise<boolean>;
}
