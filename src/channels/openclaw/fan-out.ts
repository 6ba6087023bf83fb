/**
 * Delivers bus events to WebSocket connections. The channel holds one bus
 * subscription; a run's streamed deltas are coalesced first (delta-throttle.ts),
 * each AgentEvent is mapped to wire events, each payload is serialised once,
 * and every connection's frame is that text with its own `seq` spliced in
 * (docs/protocol.md §1.1, §4).
 */

import type { AgentEvent } from '../../agent/types.js';
import type { OutboundBus, Subscription } from '../../bus/types.js';
import { eventFramePrefix, eventFramePrefixParts } from '../../protocol/frames.js';
import { jsonParts, partsBytes, partsToBuffer } from '../../util/json-parts.js';
import type { WireEvent } from './method-types.js';
import type { Connection } from './connection.js';
import { SampledLog, type ChannelLogger } from './channel-logger.js';
import { createDeltaThrottle, type DeltaThrottleOptions } from './delta-throttle.js';
import { carriesReply, cutReplyText, payloadTextChars, withoutReplyText } from './oversize-event.js';

export interface FanOutDeps {
  bus: Pick<OutboundBus<AgentEvent>, 'subscribe'>;
  mapEvent: (event: AgentEvent) => WireEvent[];
  /** Authenticated connections, in registration order. */
  connections: () => Iterable<Connection>;
  /** Number of authenticated connections (skip all work when zero). */
  authenticatedCount: () => number;
  /** policy.maxPayload: larger events are dropped and logged (a run's end is sent with its reply cut). */
  maxPayload: number;
  logger: ChannelLogger;
  /** Delta coalescing (defaults in delta-throttle.ts). */
  throttle?: DeltaThrottleOptions;
  /** Deltas whose text so far is longer are not sent, characters (default STREAM_DELTA_MAX_CHARS). */
  streamDeltaMaxChars?: number;
  /** A run's end carries at most this much of its reply's JSON, bytes (default FINAL_REPLY_MAX_BYTES). */
  finalReplyMaxBytes?: number;
}

export interface FanOut {
  /** Send one already-mapped wire event to every connection in its audience. */
  deliver(wire: WireEvent): void;
  close(): void;
  /** Bus subscriptions held (0 or 1). */
  readonly subscriptions: number;
  /** Frames written by the fan-out since start. */
  readonly framesSent: number;
  /** Armed delta-flush timers. */
  readonly timers: number;
}

/**
 * Longest text so far a streamed delta is sent with, characters. Each delta of
 * a huge reply would cost the gateway several copies of the text (JSON, frame,
 * socket buffer) for a view nobody reads live; the run's end brings the reply.
 */
export const STREAM_DELTA_MAX_CHARS = 1024 * 1024;
/**
 * Largest frame a run's end is sent in when it carries its reply, bytes: a
 * longer reply is cut (`truncated: true`) and read with chat.message.get. As
 * for the deltas, a few megabytes more in one frame would cost the gateway
 * several copies (JSON, frame, socket buffer) per event, for text no client
 * shows at once.
 */
export const FINAL_REPLY_MAX_BYTES = 1024 * 1024;
/** Events carrying more text than this are encoded into one shared buffer, characters. */
const LARGE_EVENT_CHARS = 256 * 1024;
/** An event's frame without its seq: text, or for a large event bytes shared by every connection. */
interface EncodedFrame {
  prefix: string | Buffer;
  bytes: number;
}
/** Room left in a frame for the `seq` spliced into it, bytes. */
const SEQ_RESERVE_BYTES = 32;

/** Subscribe once to the bus and start delivering. */
export function createFanOut(deps: FanOutDeps): FanOut {
  let subscription: Subscription | undefined;
  let closed = false;
  let framesSent = 0;
  // A huge reply's deltas are dropped one after another: log them by sampling.
  const oversized = new SampledLog(deps.logger);
  const streamDeltaMaxChars = deps.streamDeltaMaxChars ?? STREAM_DELTA_MAX_CHARS;
  const finalReplyMaxBytes = deps.finalReplyMaxBytes ?? FINAL_REPLY_MAX_BYTES;

  function deliver(wire: WireEvent): void {
    const maxRoom = deps.maxPayload - SEQ_RESERVE_BYTES;
    const room = carriesReply(wire) ? Math.min(maxRoom, finalReplyMaxBytes) : maxRoom;
    // More characters than the room cannot fit in any encoding: skip serialising a huge text only to cut it.
    let frame = payloadTextChars(wire) > room ? undefined : serialise(wire);
    if (frame === undefined || frame.bytes > room) {
      // A run's end must still arrive (one terminal event per run, §9 item 28): with its reply cut and flagged
      // (the rest is read with chat.message.get), or failing that without it. Deltas that do not fit are dropped.
      frame = fitted(cutReplyText(wire, room, (shell) => serialise(shell)?.bytes), room) ?? fitted(withoutReplyText(wire), maxRoom);
      if (frame === undefined) {
        oversized.warn('event larger than maxPayload dropped', { event: wire.event });
        return;
      }
    }
    for (const conn of deps.connections()) {
      if (isInAudience(conn, wire) && conn.sendSequenced(frame.prefix, frame.bytes)) framesSent++;
    }
  }

  function fitted(wire: WireEvent | undefined, room: number): EncodedFrame | undefined {
    const frame = wire === undefined ? undefined : serialise(wire);
    return frame === undefined || frame.bytes > room ? undefined : frame;
  }

  function serialise(wire: WireEvent): EncodedFrame | undefined {
    try {
      if (payloadTextChars(wire) > LARGE_EVENT_CHARS) {
        // Encoded straight into one buffer that every connection sends: no string of the whole frame, no copy each.
        const parts = eventFramePrefixParts(wire.event, jsonParts(wire.payload ?? null));
        const bytes = partsBytes(parts);
        return { prefix: partsToBuffer(parts, bytes), bytes };
      }
      const prefix = eventFramePrefix(wire.event, JSON.stringify(wire.payload) ?? 'null');
      return { prefix, bytes: Buffer.byteLength(prefix, 'utf8') };
    } catch (error) {
      deps.logger.error('event payload not serialisable', { event: wire.event, error: String(error) });
      return undefined;
    }
  }

  function onBusEvent(event: AgentEvent): void {
    // With nobody listening, skip the work, except run.end: the throttle must still drop the run's state.
    if (deps.authenticatedCount() === 0 && event.type !== 'run.end') return;
    throttle.push(event);
  }

  function mapAndDeliver(event: AgentEvent): void {
    // The mapper keeps no state, so nothing is mapped with nobody listening, nor a delta past the cap:
    // then only the run's end carries the reply.
    if (deps.authenticatedCount() === 0 || isOverlongDelta(event, streamDeltaMaxChars)) return;
    let wires: WireEvent[];
    try {
      wires = deps.mapEvent(event);
    } catch (error) {
      deps.logger.error('event mapping failed', { type: event.type, error: error instanceof Error ? error.stack : String(error) });
      return;
    }
    for (const wire of wires) deliver(wire);
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
  const throttle = createDeltaThrottle(mapAndDeliver, deps.throttle);
  subscribe();

  return {
    deliver,
    close() {
      closed = true;
      throttle.close();
      subscription?.unsubscribe();
      subscription = undefined;
    },
    get subscriptions() {
      return subscription === undefined ? 0 : 1;
    },
    get framesSent() {
      return framesSent;
    },
    get timers() {
      return throttle.timers;
    },
  };
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

function isOverlongDelta(event: AgentEvent, maxChars: number): boolean {
  return (event.type === 'text.delta' || event.type === 'thinking.delta') && event.text.length > maxChars;
}
