/**
 * Run one agent turn for an HTTP call: watch the run's events (before
 * sending, so no delta is lost), send the turn through the assistant, forward
 * text deltas and resolve with the run's outcome, which its `run.end` carries
 * whole (reply text, usage totals): the watcher is a small fold.
 */

import type { RunEvent, RunStatus } from '../../agent/types.js';
import type { Assistant } from '../../assistant/types.js';
import type { ToolCallBlock, Usage } from '../../messages/types.js';
import type { ToolSpec } from '../../providers/types.js';
import type { TurnInput } from './turn-input.js';

/** When our bus queue overflows we fall back to polling the run, at most this long. */
const OVERFLOW_WAIT_MS = 30 * 60 * 1000;

export interface RunOutcome {
  status: RunStatus;
  /** Final assistant text (partial when aborted). */
  text: string;
  usage?: Usage;
  /** Model stop reason (`stop`, `length`, …) or `rpc` after an abort. */
  stopReason: string;
  error?: string;
  /** Calls to the client's tools the run stopped at: the reply hands them to the client. */
  clientToolCalls?: ToolCallBlock[];
}

export interface StartRunInput {
  sessionKey: string;
  runId: string;
  turn: TurnInput;
  timeoutMs?: number;
  /** The client's function tools, offered beside the gateway's. */
  clientTools?: ToolSpec[];
  /** Called for each text delta, in order. */
  onDelta?: (delta: string) => void;
}

export interface ActiveRun {
  readonly runId: string;
  /** Resolves once at `run.end`; never rejects. */
  readonly outcome: Promise<RunOutcome>;
  /** Ask the agent to abort this run (the partial reply is persisted by the agent). */
  abort(): void;
}

/**
 * Send a turn and watch it. Rejects with what `assistant.send` rejects with
 * (GatewayError on bad input or when unavailable); nothing stays subscribed then.
 */
export async function startRun(assistant: Assistant, input: StartRunInput): Promise<ActiveRun> {
  const { runId, sessionKey } = input;
  let streamed = '';
  let lastUsage: Usage | undefined;
  let settle!: (outcome: RunOutcome) => void;
  const outcome = new Promise<RunOutcome>((resolve) => {
    settle = resolve;
  });
  let settled = false;
  const finish = (result: RunOutcome): void => {
    if (settled) return;
    settled = true;
    subscription.unsubscribe();
    settle(result);
  };

  const onEvent = (event: RunEvent): void => {
    if (settled) return;
    if (event.type === 'text.delta') {
      streamed += event.delta;
      input.onDelta?.(event.delta);
    } else if (event.type === 'usage') {
      lastUsage = event.usage;
    } else if (event.type === 'run.end') {
      const ended: RunOutcome = {
        status: event.status,
        text: event.text || streamed,
        usage: event.usage ?? event.message?.usage ?? lastUsage,
        stopReason: event.stopReason,
        error: event.error,
      };
      if (event.clientToolCalls !== undefined) ended.clientToolCalls = event.clientToolCalls;
      finish(ended);
    }
  };
  const subscription = assistant.watchRun(runId, onEvent, {
    onLost: () => void waitForRecord(assistant, runId, streamed, input.onDelta).then(finish),
  });

  try {
    const submitted = await assistant.send({
      sessionKey,
      text: input.turn.text,
      images: input.turn.images.length > 0 ? input.turn.images : undefined,
      idempotencyKey: runId,
      extraSystemPrompt: input.turn.extraSystemPrompt,
      timeoutMs: input.timeoutMs,
      clientTools: input.clientTools,
      toolResults: input.turn.toolResults,
    });
    if (submitted.status !== 'started') {
      // The key names a run that already exists (only possible on a UUID clash): report that run.
      void waitForRecord(assistant, submitted.runId, streamed, input.onDelta).then(finish);
    }
  } catch (err) {
    settled = true;
    subscription.unsubscribe();
    throw err;
  }

  return {
    runId,
    outcome,
    abort: () => {
      if (!settled) assistant.abort(sessionKey, runId);
    },
  };
}

/** Map a finished run record onto an outcome; sends any text the subscriber missed as one delta. */
async function waitForRecord(
  assistant: Assistant,
  runId: string,
  streamed: string,
  onDelta: ((delta: string) => void) | undefined,
): Promise<RunOutcome> {
  const record = await assistant.wait(runId, OVERFLOW_WAIT_MS);
  if (record === undefined || record.status === 'running') {
    return { status: 'error', text: streamed, stopReason: 'error', error: 'run state lost' };
  }
  const text = record.text ?? streamed;
  if (text.startsWith(streamed) && text.length > streamed.length) onDelta?.(text.slice(streamed.length));
  const outcome: RunOutcome = {
    status: record.status,
    text,
    usage: record.usage,
    stopReason: record.stopReason ?? record.status,
    error: record.error,
  };
  if (record.clientToolCalls !== undefined) outcome.clientToolCalls = record.clientToolCalls;
  return outcome;
}
