/**
 * Run one agent turn for an HTTP call: subscribe to the run's events on the
 * bus *before* submitting (so no delta is lost), submit, forward text deltas
 * and resolve with the run's outcome at `run.end`.
 */

import type { AgentEvent, AgentService, RunEvent, RunStatus } from '../../agent/types.js';
import type { OutboundBus } from '../../bus/types.js';
import type { Usage } from '../../messages/types.js';
import { messageText } from '../../messages/message-text.js';
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
}

export interface StartRunInput {
  sessionKey: string;
  runId: string;
  turn: TurnInput;
  timeoutMs?: number;
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
 * Submit a turn and watch it. Rejects with what `agent.submit` rejects with
 * (GatewayError on bad input or when unavailable); nothing stays subscribed then.
 */
export async function startRun(
  agent: AgentService,
  bus: OutboundBus<AgentEvent>,
  input: StartRunInput,
): Promise<ActiveRun> {
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

  const subscription = bus.subscribe(
    (event) => {
      if (settled || !isRunEvent(event)) return;
      if (event.type === 'text.delta') {
        streamed += event.delta;
        input.onDelta?.(event.delta);
      } else if (event.type === 'usage') {
        lastUsage = event.usage;
      } else if (event.type === 'run.end') {
        // The record holds the run's totals (usage over every model call, the final reply text).
        const record = agent.getRun(runId);
        finish({
          status: event.status,
          text: record?.text || messageText(event.message) || streamed,
          usage: record?.usage ?? event.message?.usage ?? lastUsage,
          stopReason: event.stopReason,
          error: event.error,
        });
      }
    },
    {
      filter: (event) => isRunEvent(event) && event.runId === runId,
      onOverflow: () => {
        void waitForRecord(agent, runId, streamed, input.onDelta).then(finish);
      },
    },
  );

  try {
    const submitted = await agent.submit({
      sessionKey,
      text: input.turn.text,
      images: input.turn.images.length > 0 ? input.turn.images : undefined,
      idempotencyKey: runId,
      extraSystemPrompt: input.turn.extraSystemPrompt,
      timeoutMs: input.timeoutMs,
    });
    if (submitted.status !== 'started') {
      // The key names a run that already exists (only possible on a UUID clash): report that run.
      void waitForRecord(agent, submitted.runId, streamed, input.onDelta).then(finish);
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
      if (!settled) agent.abort(sessionKey, runId);
    },
  };
}

/** Map a finished run record onto an outcome; sends any text the subscriber missed as one delta. */
async function waitForRecord(
  agent: AgentService,
  runId: string,
  streamed: string,
  onDelta: ((delta: string) => void) | undefined,
): Promise<RunOutcome> {
  const record = await agent.wait(runId, OVERFLOW_WAIT_MS);
  if (record === undefined || record.status === 'running') {
    return { status: 'error', text: streamed, stopReason: 'error', error: 'run state lost' };
  }
  const text = record.text ?? streamed;
  if (text.startsWith(streamed) && text.length > streamed.length) onDelta?.(text.slice(streamed.length));
  return {
    status: record.status,
    text,
    usage: record.usage,
    stopReason: record.stopReason ?? record.status,
    error: record.error,
  };
}

function isRunEvent(event: AgentEvent): event is RunEvent {
  return 'runId' in event;
}
