/**
 * Bus events → OpenClaw wire events (docs/protocol.md §4). One mapper serves every
 * connection: each bus event is mapped once, and the channel fans the result
 * out (and serialises it) once per event, not once per socket.
 *
 * Per run order: agent lifecycle start (+ model) → (agent assistant + chat
 * delta | agent tool start + chat delta | agent tool result)* → agent usage? →
 * agent lifecycle end|error → chat final|aborted|error.
 * Nothing follows a run's terminal chat event.
 */

import type { AgentEvent, RunEvent, SessionEvent } from '../../agent/types.js';
import type { ContentBlock } from '../../messages/types.js';
import type { SessionMeta } from '../../sessions/types.js';
import { messageText } from '../../messages/message-text.js';
import { DEFAULT_AGENT_ID } from '../../sessions/session-key.js';
import type { WireEvent } from './method-types.js';
import {
  shapeMessage,
  shapeSessionRow,
  shapeUsage,
  type SessionDefaults,
  type WireMessage,
} from './message-shape.js';

/** Live per-run records kept at most; the oldest is dropped beyond this. */
export const MAX_TRACKED_RUNS = 1024;
/** Ended runIds remembered so that stragglers are dropped. */
export const MAX_ENDED_RUNS = 4096;
/** chat.inject announces its message as a run with this runId prefix (§3.3). */
export const INJECT_RUN_PREFIX = 'inject-';

export interface EventMapperOptions {
  /** Session metadata lookup: adds sessionId, message seq and session rows when given. */
  lookupSession?: (sessionKey: string) => SessionMeta | undefined;
  /** Model defaults for session rows in sessions.changed. */
  defaults?: SessionDefaults;
  /** Clock, epoch ms. */
  now?: () => number;
}

export type EventMapper = (event: AgentEvent) => WireEvent[];

interface RunState {
  sessionKey: string;
  /** Agent payload seq of the last agent event (starts at 1). */
  agentSeq: number;
  /** Chat payload seq of the last chat event (never decreases). */
  chatSeq: number;
  /** Text of the run's earlier assistant messages; chat deltas carry prefix + current text. */
  chatPrefix: string;
  /** Text of the current assistant message (agent assistant stream). */
  itemText: string;
  itemIndex: number;
  /** toolCall blocks of the run so far; chat deltas carry them after the text. */
  toolCalls: ContentBlock[];
  startedAt: number;
}

/** Create a mapper with its own bounded per-run state. */
export function createEventMapper(options: EventMapperOptions = {}): EventMapper {
  const now = options.now ?? Date.now;
  const runs = new Map<string, RunState>();
  const ended = new Set<string>();

  function stateOf(event: RunEvent): RunState | undefined {
    if (ended.has(event.runId)) return undefined;
    let state = runs.get(event.runId);
    if (state === undefined) {
      // Also covers a mapper created mid-run: pick the run up from here.
      state = {
        sessionKey: event.sessionKey,
        agentSeq: 0,
        chatSeq: 0,
        chatPrefix: '',
        itemText: '',
        itemIndex: 1,
        toolCalls: [],
        startedAt: event.type === 'run.start' ? event.startedAt : now(),
      };
      if (runs.size >= MAX_TRACKED_RUNS) {
        const oldest = runs.keys().next().value;
        if (oldest !== undefined) runs.delete(oldest);
      }
      runs.set(event.runId, state);
    }
    return state;
  }

  function markEnded(runId: string): void {
    runs.delete(runId);
    ended.add(runId);
    if (ended.size > MAX_ENDED_RUNS) {
      const oldest = ended.values().next().value;
      if (oldest !== undefined) ended.delete(oldest);
    }
  }

  function agentEvent(runId: string, state: RunState, stream: string, data: Record<string, unknown>): WireEvent {
    state.agentSeq += 1;
    const payload: Record<string, unknown> = { runId, sessionKey: state.sessionKey };
    const sessionId = options.lookupSession?.(state.sessionKey)?.sessionId;
    if (sessionId !== undefined) payload.sessionId = sessionId;
    payload.agentId = DEFAULT_AGENT_ID;
    payload.stream = stream;
    payload.data = data;
    payload.seq = state.agentSeq;
    payload.ts = now();
    return { event: 'agent', payload, audience: 'read', sessionKey: state.sessionKey };
  }

  function chatEvent(runId: string, state: RunState, fields: Record<string, unknown>): WireEvent {
    // Mirror the agent seq like OpenClaw does; never below the previous chat seq.
    state.chatSeq = Math.max(state.chatSeq, state.agentSeq);
    const payload = { runId, sessionKey: state.sessionKey, agentId: DEFAULT_AGENT_ID, seq: state.chatSeq, ...fields };
    return { event: 'chat', payload, audience: 'read', sessionKey: state.sessionKey };
  }

  function mapRun(event: RunEvent): WireEvent[] {
    if (event.type === 'run.start') ended.delete(event.runId);
    if (event.type === 'run.end' && event.runId.startsWith(INJECT_RUN_PREFIX) && !runs.has(event.runId)) {
      return mapInject(event);
    }
    const state = stateOf(event);
    if (state === undefined) return [];
    switch (event.type) {
      case 'run.start':
        state.startedAt = event.startedAt;
        return [
          agentEvent(event.runId, state, 'lifecycle', { phase: 'start', startedAt: event.startedAt }),
          agentEvent(event.runId, state, 'lifecycle', { phase: 'model', provider: event.provider, model: event.model }),
        ];
      case 'text.delta': {
        if (event.delta === '') return [];
        // event.text is cumulative per assistant message; it restarts (text === delta) after tool calls.
        if (event.text === event.delta && state.itemText !== '') {
          state.chatPrefix += state.itemText;
          state.itemIndex += 1;
        }
        state.itemText = event.text;
        const agent = agentEvent(event.runId, state, 'assistant', {
          text: event.text,
          delta: event.delta,
          itemId: `${event.runId}:${state.itemIndex}`,
        });
        const chat = chatEvent(event.runId, state, {
          state: 'delta',
          deltaText: event.delta,
          message: { role: 'assistant', content: deltaContent(state), timestamp: now() },
        });
        return [agent, chat];
      }
      case 'thinking.delta':
        if (event.delta === '') return [];
        return [agentEvent(event.runId, state, 'thinking', { text: event.text, delta: event.delta })];
      case 'tool.call': {
        state.toolCalls.push({ type: 'toolCall', id: event.toolCallId, name: event.name, arguments: event.arguments });
        const agent = agentEvent(event.runId, state, 'tool', {
          phase: 'start',
          name: event.name,
          toolCallId: event.toolCallId,
          args: event.arguments,
        });
        // Chat-only clients (the built-in web chat) render the call while the tool runs.
        const chat = chatEvent(event.runId, state, {
          state: 'delta',
          deltaText: '',
          message: { role: 'assistant', content: deltaContent(state), timestamp: now() },
        });
        return [agent, chat];
      }
      case 'tool.result':
        // Only `result`: openclaw-node turns both `result` and `end` into a tool_result chunk.
        return [
          agentEvent(event.runId, state, 'tool', {
            phase: 'result',
            name: event.name,
            toolCallId: event.toolCallId,
            result: { content: event.content },
            isError: event.isError,
          }),
        ];
      case 'model': {
        // Same phase as at the start, so clients showing the model follow the failover.
        const data: Record<string, unknown> = { phase: 'model', provider: event.provider, model: event.model, fallback: true };
        if (event.failedOver !== undefined) data.failedOver = event.failedOver;
        return [agentEvent(event.runId, state, 'lifecycle', data)];
      }
      case 'usage':
        return [
          agentEvent(event.runId, state, 'usage', {
            inputTokens: event.usage.input,
            outputTokens: event.usage.output,
            totalTokens: event.usage.totalTokens,
          }),
        ];
      case 'run.end':
        markEnded(event.runId);
        return mapRunEnd(event, state);
    }
  }

  function mapRunEnd(event: Extract<RunEvent, { type: 'run.end' }>, state: RunState): WireEvent[] {
    const startedAt = event.startedAt || state.startedAt;
    const text = event.message !== undefined ? messageText(event.message) : state.chatPrefix + state.itemText;
    if (event.status === 'ok') {
      const lifecycle = agentEvent(event.runId, state, 'lifecycle', {
        phase: 'end',
        startedAt,
        endedAt: event.endedAt,
        aborted: false,
        stopReason: event.stopReason,
        terminalReply: { disposition: 'visible', text },
      });
      const fields: Record<string, unknown> = {
        state: 'final',
        stopReason: event.stopReason,
        message: shapeRunMessage(event, state, text),
      };
      if (event.message?.usage !== undefined) fields.usage = shapeUsage(event.message.usage);
      return [lifecycle, chatEvent(event.runId, state, fields)];
    }
    if (event.status === 'aborted') {
      const lifecycle = agentEvent(event.runId, state, 'lifecycle', {
        phase: 'end',
        status: 'cancelled',
        aborted: true,
        stopReason: event.stopReason,
        startedAt,
        endedAt: event.endedAt,
      });
      const fields: Record<string, unknown> = { state: 'aborted', stopReason: event.stopReason };
      if (event.message !== undefined || text !== '') fields.message = shapeRunMessage(event, state, text);
      return [lifecycle, chatEvent(event.runId, state, fields)];
    }
    const errorMessage = event.error ?? 'agent run failed';
    const lifecycle = agentEvent(event.runId, state, 'lifecycle', {
      phase: 'error',
      error: errorMessage,
      startedAt,
      endedAt: event.endedAt,
    });
    const fields: Record<string, unknown> = { state: 'error', errorMessage, errorKind: classifyError(errorMessage) };
    if (event.message !== undefined) fields.message = shapeRunMessage(event, state, text);
    return [lifecycle, chatEvent(event.runId, state, fields)];
  }

  function shapeRunMessage(
    event: Extract<RunEvent, { type: 'run.end' }>,
    state: RunState,
    text: string,
  ): WireMessage | Record<string, unknown> {
    if (event.message === undefined) {
      return { role: 'assistant', content: text === '' ? [] : [{ type: 'text', text }], timestamp: event.endedAt };
    }
    return shapeMessage(event.message, seqOf(state.sessionKey));
  }

  /** A just-persisted message is the newest row of its session: its seq is the message count. */
  function seqOf(sessionKey: string): { seq?: number } {
    const seq = options.lookupSession?.(sessionKey)?.messageCount;
    return seq === undefined ? {} : { seq };
  }

  function mapInject(event: Extract<RunEvent, { type: 'run.end' }>): WireEvent[] {
    markEnded(event.runId);
    const message =
      event.message === undefined
        ? { role: 'assistant', content: [], timestamp: event.endedAt }
        : shapeMessage(event.message, seqOf(event.sessionKey));
    const payload: Record<string, unknown> = {
      runId: event.runId,
      sessionKey: event.sessionKey,
      agentId: DEFAULT_AGENT_ID,
      seq: 0,
      state: 'final',
      stopReason: event.stopReason,
      message,
    };
    return [{ event: 'chat', payload, audience: 'read', sessionKey: event.sessionKey }];
  }

  function mapSession(event: SessionEvent): WireEvent[] {
    const meta = options.lookupSession?.(event.sessionKey);
    if (event.type === 'session.message') {
      const seq = meta?.messageCount;
      const message = shapeMessage(event.message, seqOf(event.sessionKey));
      const payload: Record<string, unknown> = {
        sessionKey: event.sessionKey,
        agentId: DEFAULT_AGENT_ID,
        message,
        messageId: event.message.id,
      };
      if (seq !== undefined) payload.messageSeq = seq;
      return [{ event: 'session.message', payload, audience: 'session-messages', sessionKey: event.sessionKey }];
    }
    const payload: Record<string, unknown> = { sessionKey: event.sessionKey, agentId: DEFAULT_AGENT_ID, reason: event.reason };
    if (event.reason === 'run.start' || event.reason === 'run.end') {
      payload.phase = event.reason === 'run.start' ? 'start' : 'end';
      const runId = findRunId(event.sessionKey) ?? meta?.lastRunId ?? undefined;
      if (runId !== undefined) payload.runId = runId;
    }
    payload.ts = now();
    if (meta !== undefined && options.defaults !== undefined && event.reason !== 'deleted') {
      payload.session = shapeSessionRow(meta, {
        defaults: options.defaults,
        includeDerivedTitle: true,
        hasActiveRun: findRunId(event.sessionKey) !== undefined,
      });
    }
    return [{ event: 'sessions.changed', payload, audience: 'sessions', sessionKey: event.sessionKey }];
  }

  function findRunId(sessionKey: string): string | undefined {
    for (const [runId, state] of runs) if (state.sessionKey === sessionKey) return runId;
    return undefined;
  }

  return (event) => {
    switch (event.type) {
      case 'session.message':
      case 'session.changed':
        return mapSession(event);
      // Scheduler events already carry OpenClaw's payload shape (bus/scheduler-events.ts).
      case 'cron':
      case 'heartbeat':
        return [{ event: event.type, payload: event.payload, audience: 'read' }];
      default:
        return mapRun(event);
    }
  };
}

/** The run's text so far, then its tool calls. */
function deltaContent(state: RunState): ContentBlock[] {
  const text = state.chatPrefix + state.itemText;
  return text === '' ? [...state.toolCalls] : [{ type: 'text', text }, ...state.toolCalls];
}

/** OpenClaw's chat error kinds (§4.1), guessed from the model error text. */
export function classifyError(message: string): 'timeout' | 'rate_limit' | 'context_length' | 'refusal' | 'unknown' {
  const text = message.toLowerCase();
  if (/timed? ?out|timeout/.test(text)) return 'timeout';
  if (/rate.?limit|too many requests|\b429\b/.test(text)) return 'rate_limit';
  if (/context (length|window)|maximum context|too many tokens/.test(text)) return 'context_length';
  if (/refus/.test(text)) return 'refusal';
  return 'unknown';
}
