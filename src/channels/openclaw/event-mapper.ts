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

import type { AgentEvent, ReplySoFar, RunEvent, SessionEvent } from '../../agent/types.js';
import type { ContentBlock } from '../../messages/types.js';
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

/** chat.inject announces its message as a chat final with this runId prefix (§3.3); no run has it. */
export const INJECT_RUN_PREFIX = 'inject-';

export interface EventMapperOptions {
  /** Model defaults for session rows in sessions.changed. */
  defaults?: SessionDefaults;
  /** Clock, epoch ms. */
  now?: () => number;
}

export type EventMapper = (event: AgentEvent) => WireEvent[];

type RunEndEvent = Extract<RunEvent, { type: 'run.end' }>;

/**
 * Create the mapper: a pure function of each event (and the clock). Run
 * events carry their seq, session id and reply so far, so it keeps no
 * per-run state and reads no store.
 */
export function createEventMapper(options: EventMapperOptions = {}): EventMapper {
  const now = options.now ?? Date.now;

  /** run.start becomes two agent events (start, model), so later events sit one above their run seq. */
  function agentEvent(event: RunEvent, seq: number, stream: string, data: Record<string, unknown>): WireEvent {
    const payload: Record<string, unknown> = { runId: event.runId, sessionKey: event.sessionKey };
    if (event.sessionId !== undefined) payload.sessionId = event.sessionId;
    payload.agentId = DEFAULT_AGENT_ID;
    payload.stream = stream;
    payload.data = data;
    payload.seq = seq;
    payload.ts = now();
    return { event: 'agent', payload, audience: 'read', sessionKey: event.sessionKey };
  }

  /** Chat events mirror the seq of the agent event they go with, as OpenClaw's do. */
  function chatEvent(event: RunEvent, seq: number, fields: Record<string, unknown>): WireEvent {
    const payload = { runId: event.runId, sessionKey: event.sessionKey, agentId: DEFAULT_AGENT_ID, seq, ...fields };
    return { event: 'chat', payload, audience: 'read', sessionKey: event.sessionKey };
  }

  function mapRun(event: RunEvent): WireEvent[] {
    const seq = event.seq + 1;
    switch (event.type) {
      case 'run.start':
        return [
          agentEvent(event, event.seq, 'lifecycle', { phase: 'start', startedAt: event.startedAt }),
          agentEvent(event, seq, 'lifecycle', { phase: 'model', provider: event.provider, model: event.model }),
        ];
      case 'text.delta': {
        const agent = agentEvent(event, seq, 'assistant', {
          text: event.text,
          delta: event.delta,
          itemId: `${event.runId}:${event.itemIndex}`,
        });
        const chat = chatEvent(event, seq, {
          state: 'delta',
          deltaText: event.delta,
          message: { role: 'assistant', content: replyContent(event.reply), timestamp: now() },
        });
        return [agent, chat];
      }
      case 'thinking.delta':
        return [agentEvent(event, seq, 'thinking', { text: event.text, delta: event.delta })];
      case 'tool.call': {
        const agent = agentEvent(event, seq, 'tool', {
          phase: 'start',
          name: event.name,
          toolCallId: event.toolCallId,
          args: event.arguments,
        });
        // Chat-only clients (the built-in web chat) render the call while the tool runs.
        const chat = chatEvent(event, seq, {
          state: 'delta',
          deltaText: '',
          message: { role: 'assistant', content: replyContent(event.reply), timestamp: now() },
        });
        return [agent, chat];
      }
      case 'tool.result':
        // Only `result`: openclaw-node turns both `result` and `end` into a tool_result chunk.
        return [
          agentEvent(event, seq, 'tool', {
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
        return [agentEvent(event, seq, 'lifecycle', data)];
      }
      case 'usage':
        return [
          agentEvent(event, seq, 'usage', {
            inputTokens: event.usage.input,
            outputTokens: event.usage.output,
            totalTokens: event.usage.totalTokens,
          }),
        ];
      case 'run.end':
        return mapRunEnd(event, seq);
    }
  }

  function mapRunEnd(event: RunEndEvent, seq: number): WireEvent[] {
    const { startedAt } = event;
    const text = event.message !== undefined ? messageText(event.message) : event.reply.text;
    if (event.status === 'ok') {
      const lifecycle = agentEvent(event, seq, 'lifecycle', {
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
        message: shapeRunMessage(event, text),
      };
      if (event.message?.usage !== undefined) fields.usage = shapeUsage(event.message.usage);
      return [lifecycle, chatEvent(event, seq, fields)];
    }
    if (event.status === 'aborted') {
      const lifecycle = agentEvent(event, seq, 'lifecycle', {
        phase: 'end',
        status: 'cancelled',
        aborted: true,
        stopReason: event.stopReason,
        startedAt,
        endedAt: event.endedAt,
      });
      const fields: Record<string, unknown> = { state: 'aborted', stopReason: event.stopReason };
      if (event.message !== undefined || text !== '') fields.message = shapeRunMessage(event, text);
      return [lifecycle, chatEvent(event, seq, fields)];
    }
    const errorMessage = event.error ?? 'agent run failed';
    const lifecycle = agentEvent(event, seq, 'lifecycle', {
      phase: 'error',
      error: errorMessage,
      startedAt,
      endedAt: event.endedAt,
    });
    const fields: Record<string, unknown> = { state: 'error', errorMessage, errorKind: classifyError(errorMessage) };
    if (event.message !== undefined) fields.message = shapeRunMessage(event, text);
    return [lifecycle, chatEvent(event, seq, fields)];
  }

  /** A just-persisted message is the newest row of its session: its seq is the message count. */
  function shapeRunMessage(event: RunEndEvent, text: string): WireMessage | Record<string, unknown> {
    if (event.message === undefined) {
      return { role: 'assistant', content: text === '' ? [] : [{ type: 'text', text }], timestamp: event.endedAt };
    }
    return shapeMessage(event.message, { seq: event.messageCount });
  }

  function mapMessage(event: Extract<SessionEvent, { type: 'session.message' }>): WireEvent[] {
    const message = shapeMessage(event.message, { seq: event.messageCount });
    const payload: Record<string, unknown> = {
      sessionKey: event.sessionKey,
      agentId: DEFAULT_AGENT_ID,
      message,
      messageId: event.message.id,
    };
    if (event.messageCount !== undefined) payload.messageSeq = event.messageCount;
    const wires: WireEvent[] = [{ event: 'session.message', payload, audience: 'session-messages', sessionKey: event.sessionKey }];
    if (event.injected === true) {
      // OpenClaw announces an injected message to chat clients as one final with seq 0.
      const final = {
        runId: `${INJECT_RUN_PREFIX}${event.message.id}`,
        sessionKey: event.sessionKey,
        agentId: DEFAULT_AGENT_ID,
        seq: 0,
        state: 'final',
        stopReason: event.message.stopReason ?? 'stop',
        message,
      };
      wires.push({ event: 'chat', payload: final, audience: 'read', sessionKey: event.sessionKey });
    }
    return wires;
  }

  function mapChange(event: Extract<SessionEvent, { type: 'session.changed' }>): WireEvent[] {
    const payload: Record<string, unknown> = { sessionKey: event.sessionKey, agentId: DEFAULT_AGENT_ID, reason: event.reason };
    if (event.reason === 'run.start' || event.reason === 'run.end') {
      payload.phase = event.reason === 'run.start' ? 'start' : 'end';
      const runId = event.activeRunId ?? event.session?.lastRunId ?? undefined;
      if (runId !== undefined) payload.runId = runId;
    }
    payload.ts = now();
    if (event.session !== undefined && options.defaults !== undefined && event.reason !== 'deleted') {
      payload.session = shapeSessionRow(event.session, {
        defaults: options.defaults,
        includeDerivedTitle: true,
        hasActiveRun: event.activeRunId !== undefined,
      });
    }
    return [{ event: 'sessions.changed', payload, audience: 'sessions', sessionKey: event.sessionKey }];
  }

  return (event) => {
    switch (event.type) {
      case 'session.message':
        return mapMessage(event);
      case 'session.changed':
        return mapChange(event);
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
function replyContent(reply: ReplySoFar): ContentBlock[] {
  return reply.text === '' ? [...reply.toolCalls] : [{ type: 'text', text: reply.text }, ...reply.toolCalls];
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
