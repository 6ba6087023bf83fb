/**
 * The three frame kinds of the OpenClaw protocol (docs/protocol.md §1) and their
 * serialisers. Serialisers build JSON text directly so that an event payload
 * can be serialised once and spliced into many per-connection frames.
 */

import type { ErrorShape } from './errors.js';

/** A validated client request; `params` is `{}` when the client sent none. */
export interface RequestFrame {
  type: 'req';
  id: string;
  method: string;
  params: Record<string, unknown>;
}

export type ResponseFrame =
  | { type: 'res'; id: string; ok: true; payload: unknown }
  | { type: 'res'; id: string; ok: false; error: ErrorShape };

export interface EventFrame {
  type: 'event';
  event: string;
  payload: unknown;
  /** Per-connection counter, absent only on connect.challenge (§1.1). */
  seq?: number;
  stateVersion?: Record<string, number>;
}

export type Frame = RequestFrame | ResponseFrame | EventFrame;

/** JSON text of a value, with `undefined` written as `null` so keys never vanish. */
export function toJson(value: unknown): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** `{"type":"res","id":…,"ok":true,"payload":…}` */
export function serialiseOkResponse(id: string, payload: unknown): string {
  return `{"type":"res","id":${JSON.stringify(id)},"ok":true,"payload":${toJson(payload)}}`;
}

/** `{"type":"res","id":…,"ok":false,"error":…}` */
export function serialiseErrorResponse(id: string, error: ErrorShape): string {
  return `{"type":"res","id":${JSON.stringify(id)},"ok":false,"error":${JSON.stringify(error)}}`;
}

/** An event frame without `seq` (only connect.challenge goes out like this). */
export function serialiseUnsequencedEvent(event: string, payload: unknown): string {
  return `{"type":"event","event":${JSON.stringify(event)},"payload":${toJson(payload)}}`;
}

/**
 * Everything of a sequenced event frame up to its `seq` value; append the
 * number and `}` per connection: `prefix + seq + '}'`.
 */
export function eventFramePrefix(event: string, payloadJson: string): string {
  return `{"type":"event","event":${JSON.stringify(event)},"payload":${payloadJson},"seq":`;
}

/** eventFramePrefix for a payload given as JSON parts (a huge payload is never one string). */
export function eventFramePrefixParts(event: string, payloadParts: readonly string[]): string[] {
  return [`{"type":"event","event":${JSON.stringify(event)},"payload":`, ...payloadParts, ',"seq":'];
}

/** Close an event frame prefix with this connection's sequence number. */
export function completeEventFrame(prefix: string, seq: number): string {
  return `${prefix}${seq}}`;
}
