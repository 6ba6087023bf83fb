/**
 * The one catalogue of wire error codes (docs/protocol.md §1.2) and the error class
 * that carries them. Handlers throw GatewayError; the dispatcher turns it into
 * `{ ok: false, error }`. Anything else becomes a generic UNAVAILABLE.
 */

export const ERROR_CODES = ['INVALID_REQUEST', 'FORBIDDEN', 'UNAVAILABLE', 'AGENT_TIMEOUT'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Wire shape of `res.error`. */
export interface ErrorShape {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  retryable?: boolean;
  retryAfterMs?: number;
}

export interface GatewayErrorOptions {
  details?: Record<string, unknown>;
  retryable?: boolean;
  retryAfterMs?: number;
  /** WebSocket close code to send after the error res (1008, 1002, 1013, ...). */
  closeCode?: number;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly retryable?: boolean;
  readonly retryAfterMs?: number;
  readonly closeCode?: number;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.closeCode = options.closeCode;
  }

  /** The `error` object of a `res` frame. */
  toShape(): ErrorShape {
    const shape: ErrorShape = { code: this.code, message: this.message };
    if (this.details !== undefined) shape.details = this.details;
    if (this.retryable !== undefined) shape.retryable = this.retryable;
    if (this.retryAfterMs !== undefined) shape.retryAfterMs = this.retryAfterMs;
    return shape;
  }
}

/** `session not found: <key>` — WebClaw redirects to a new chat on this wording (docs/protocol.md §5.3). */
export function sessionNotFound(key: string): GatewayError {
  return new GatewayError('INVALID_REQUEST', `session not found: ${key}`, {
    details: { code: 'SESSION_NOT_FOUND' },
  });
}

/** Retryable refusal while the gateway starts or drains (docs/protocol.md §1.2). */
export function gatewayUnavailable(reason: 'startup' | 'shutdown', retryAfterMs: number): GatewayError {
  return new GatewayError('UNAVAILABLE', `gateway unavailable: ${reason === 'shutdown' ? 'shutting down' : 'starting'}`, {
    details: { reason },
    retryable: true,
    retryAfterMs,
  });
}
