/**
 * Delivers bus events to WebSocket connections. The channel holds one bus
 * subscription; each AgentEvent is mapped to wire events, each payload is
 * serialised once, and every connection's frame is that text with its own
 * `seq` spliced in (docs/protocol.md §1.1, §4).
 */

import type { AgentEvent } from '../../agent/types.js';
import type { OutboundBus, Subscription } from '../../bus/types.js';
import { eventFramePrefix } from '../../protocol/frames.js';
import type { WireEvent } from './method-types.js';
import type { Connection } from './connection.js';
import type { ChannelLogger } from './channel-logger.js';

export interface FanOutDeps {
  bus: OutboundBus<AgentEvent>;
  mapEvent: (event: AgentEvent) => WireEvent[];
  /** Authenticated connections, in registration order. */
  connections: () => Iterable<Connection>;
  /** Number of authenticated connections (skip all work when zero). */
  authenticatedCount: () => number;
  /** policy.maxPayload: larger events are dropped and logged (a run's end is sent without its reply text). */
  maxPayload: number;
  logger: ChannelLogger;
}

export interface FanOut {
  /** Send one already-mapped wire event to every connection in its audience. */
  deliver(wire: WireEvent): void;
  close(): void;
  /** Bus subscriptions held (0 or 1). */
  readonly subscriptions: number;
  /** Frames written by the fan-out since start. */
  readonly framesSent: number;
}

/** Room left in a frame for the `seq` spliced into it, bytes. */
const SEQ_RESERVE_BYTES = 32;
const TERMINAL_CHAT_STATES = new Set(['final', 'aborted', 'error']);

/** Subscribe once to the bus and start delivering. */
export function createFanOut(deps: FanOutDeps): FanOut {
  let subscription: Subscription | undefined;
  let closed = false;
  let framesSent = 0;

  function deliver(wire: WireEvent): void {
    let frame = serialise(wire);
    if (frame === undefined) return;
    if (frame.bytes + SEQ_RESERVE_BYTES > deps.maxPayload) {
      // A run's end must still arrive (one terminal event per run, §9 item 28); its full text stays in chat.history.
      const slim = withoutReplyText(wire);
      frame = slim === undefined ? undefined : serialise(slim);
      if (frame === undefined || frame.bytes + SEQ_RESERVE_BYTES > deps.maxPayload) {
        deps.logger.warn('event larger than maxPayload dropped', { event: wire.event });
        return;
      }
    }
    for (const conn of deps.connections()) {
      if (isInAudience(conn, wire) && conn.sendSequenced(frame.prefix, frame.bytes)) framesSent++;
    }
  }

  function serialise(wire: WireEvent): { prefix: string; bytes: number } | undefined {
    let payloadJson: string | undefined;
    try {
      payloadJson = JSON.stringify(wire.payload);
    } catch (error) {
      deps.logger.error('event payload not serialisable', { event: wire.event, error: String(error) });
      return undefined;
    }
    const prefix = eventFramePrefix(wire.event, payloadJson ?? 'null');
    return { prefix, bytes: Buffer.byteLength(prefix, 'utf8') };
  }

  function onBusEvent(event: AgentEvent): void {
    // With nobody listening, skip the work, except run.end: the mapper must still drop the run's state.
    const listening = deps.authenticatedCount() > 0;
    if (!listening && event.type !== 'run.end') return;
    let wires: WireEvent[];
    try {
      wires = deps.mapEvent(event);
    } catch (error) {
      deps.logger.error('event mapping failed', { type: event.type, error: error instanceof Error ? error.stack : String(error) });
      return;
    }
    if (listening) for (const wire of wires) deliver(wire);
  }

  function subscribe(): void {
    subscription = deps.bus.subscribe(onBusEvent, {
      onOverflow: () => {
        // The bus ended this subscription; take a new one so later runs still reach clients.
        deps.logger.error('fan-out bus queue overflowed; events were lost');
        if (!closed) queueMicrotask(subscribe);
      },
    });
  }
  subscribe();

  return {
    deliver,
    close() {
      closed = true;
      subscription?.unsubscribe();
      subscription = undefined;
    },
    get subscriptions() {
      return subscription === undefined ? 0 : 1;
    },
    get framesSent() {
      return framesSent;
    },
  };
}

/**
 * The end of a run without the reply it carries (chat `message`, lifecycle
 * `terminalReply`), for when the whole event exceeds maxPayload; undefined
 * for any other event, which is dropped instead.
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

/** Who receives a wire event (method-types.ts WireEvent; §4: all of these need read scope). */
export function isInAudience(conn: Connection, wire: WireEvent): boolean {
  if (conn.state !== 'AUTHED' || !conn.canRead) return false;
  switch (wire.audience) {
    case 'read':
      return true;
    case 'sessions':
      return conn.sessionsSubscribed;
    case 'session-messages':
      return conn.wantsSessionMessages(wire.sessionKey);
    default:
      return false;
  }
}
