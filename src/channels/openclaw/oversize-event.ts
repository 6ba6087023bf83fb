/**
 * What the fan-out does with an event larger than policy.maxPayload, or a
 * run's end whose reply passes the reply cap (issue 13 item 6): a run's end
 * is sent with its reply cut and flagged `truncated: true`, or failing that
 * without the reply; anything else is dropped (its text stays in chat.history).
 */

import type { ContentBlock } from '../../messages/types.js';
import type { WireEvent } from './method-types.js';
import { CUT_MARKER_BYTES, cutMessageText, cutTextToBytes, withoutText } from './reply-cut.js';

const TERMINAL_CHAT_STATES = new Set(['final', 'aborted', 'error']);

/** Sum of the lengths of the text fields an event carries (a lower bound of its bytes). */
export function payloadTextChars(wire: WireEvent): number {
  const payload = wire.payload as Record<string, unknown> | null;
  if (typeof payload !== 'object' || payload === null) return 0;
  let chars = stringLength(payload.deltaText);
  if (hasContent(payload.message)) {
    for (const block of payload.message.content) if (block.type === 'text') chars += block.text.length;
  }
  const data = payload.data as Record<string, unknown> | undefined;
  if (typeof data === 'object' && data !== null) {
    chars += stringLength(data.text) + stringLength(data.delta);
    chars += stringLength((data.terminalReply as Record<string, unknown> | undefined)?.text);
  }
  return chars;
}

/** A run's end and the reply it carries: the chat `message`, or the lifecycle `terminalReply`. */
type RunEndReply =
  | { kind: 'chat'; payload: Record<string, unknown>; message: { content: ContentBlock[] } }
  | { kind: 'lifecycle'; payload: Record<string, unknown>; data: Record<string, unknown>; reply: Record<string, unknown> & { text: string } };

/** The reply an event carries when it is a run's end; undefined for any other event. */
function runEndReply(wire: WireEvent): RunEndReply | undefined {
  const payload = wire.payload as Record<string, unknown> | null;
  if (typeof payload !== 'object' || payload === null) return undefined;
  if (wire.event === 'chat' && TERMINAL_CHAT_STATES.has(payload.state as string) && hasContent(payload.message)) {
    return { kind: 'chat', payload, message: payload.message };
  }
  const data = payload.data as Record<string, unknown> | undefined;
  const reply = data?.terminalReply as Record<string, unknown> | undefined;
  if (wire.event === 'agent' && payload.stream === 'lifecycle' && data !== undefined && typeof reply?.text === 'string') {
    return { kind: 'lifecycle', payload, data, reply: reply as Record<string, unknown> & { text: string } };
  }
  return undefined;
}

/** Whether an event is a run's end that carries its reply (chat `message`, lifecycle `terminalReply`). */
export function carriesReply(wire: WireEvent): boolean {
  return runEndReply(wire) !== undefined;
}

/**
 * The end of a run with the reply it carries (chat `message`, lifecycle
 * `terminalReply`) cut so the event takes about `roomBytes`, marked
 * `truncated: true`. `measure` gives the serialised size of an event; the
 * text is cut to the room left around it. Undefined for any other event.
 */
export function cutReplyText(wire: WireEvent, roomBytes: number, measure: (wire: WireEvent) => number | undefined): WireEvent | undefined {
  const end = runEndReply(wire);
  if (end === undefined) return undefined;
  if (end.kind === 'chat') {
    const { payload, message } = end;
    const shell = measure({ ...wire, payload: { ...payload, message: { ...message, content: withoutText(message.content) } } });
    if (shell === undefined) return undefined;
    const cut = cutMessageText(message, roomBytes - shell - CUT_MARKER_BYTES);
    return { ...wire, payload: { ...payload, message: cut } };
  }
  const { payload, data, reply } = end;
  const shell = measure({ ...wire, payload: { ...payload, data: { ...data, terminalReply: { ...reply, text: '' } } } });
  if (shell === undefined) return undefined;
  const terminalReply = { ...reply, text: cutTextToBytes(reply.text, roomBytes - shell - CUT_MARKER_BYTES), truncated: true };
  return { ...wire, payload: { ...payload, data: { ...data, terminalReply } } };
}

/**
 * The end of a run without the reply it carries (chat `message`, lifecycle
 * `terminalReply`), for when even the cut event exceeds maxPayload;
 * undefined for any other event, which is dropped instead.
 */
export function withoutReplyText(wire: WireEvent): WireEvent | undefined {
  const payload = wire.payload as Record<string, unknown> | null;
  if (typeof payload !== 'object' || payload === null) return undefined;
  if (wire.event === 'chat' && TERMINAL_CHAT_STATES.has(payload.state as string) && 'message' in payload) {
    const { message: _message, ...rest } = payload;
    return { ...wire, payload: rest };
  }
  const data = payload.data as Record<string, unknown> | undefined;
  if (wire.event === 'agent' && payload.stream === 'lifecycle' && data !== undefined && 'terminalReply' in data) {
    const { terminalReply: _reply, ...restData } = data;
    return { ...wire, payload: { ...payload, data: restData } };
  }
  return undefined;
}

function hasContent(value: unknown): value is { content: ContentBlock[] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { content?: unknown }).content);
}

function stringLength(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}
