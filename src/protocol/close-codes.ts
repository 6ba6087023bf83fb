/**
 * WebSocket close codes and reasons Pincer uses (docs/protocol.md §1.3).
 */

export const CLOSE_NORMAL = 1000;
/** Gateway shutting down. */
export const CLOSE_GOING_AWAY = 1001;
/** No common protocol version. */
export const CLOSE_PROTOCOL_ERROR = 1002;
/** Binary frame received. */
export const CLOSE_UNSUPPORTED_DATA = 1003;
/** Failed connect, request before connect, handshake timeout, error budget (unreadable frames after connect are dropped, not closed). */
export const CLOSE_POLICY_VIOLATION = 1008;
/** Frame over the pre-auth cap or over policy.maxPayload. */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
export const CLOSE_INTERNAL_ERROR = 1011;
/** Gateway restarting. */
export const CLOSE_SERVICE_RESTART = 1012;
/** Slow consumer, too many pending connections, gateway draining. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

export const CLOSE_REASONS = {
  shutdown: 'gateway shutting down',
  restart: 'gateway restarting',
  protocolMismatch: 'protocol mismatch',
  binary: 'binary frames not supported',
  tooLarge: 'payload too large',
  internal: 'internal error',
  slowConsumer: 'slow consumer',
  tooManyPending: 'too many pending connections',
  handshakeTimeout: 'handshake timeout',
  invalidHandshake: 'invalid handshake',
  tooManyErrors: 'too many errors',
  unavailable: 'gateway unavailable',
} as const;

/** RFC 6455 §5.5: a control frame payload is at most 125 bytes, 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Cut a close reason to MAX_CLOSE_REASON_BYTES of UTF-8 without splitting a character. */
export function truncateCloseReason(reason: string): string {
  if (Buffer.byteLength(reason, 'utf8') <= MAX_CLOSE_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > MAX_CLOSE_REASON_BYTES) break;
    out += ch;
    bytes += size;
  }
  return out;
}
