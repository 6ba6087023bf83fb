/**
 * The one error table (docs/protocol.md §1.2).
 * Wire codes are OpenClaw's top-level `error.code`; each detail code (what
 * goes in `error.details.code`) maps to its wire code, its HTTP status and
 * whether a retry may help. Every channel renders errors from here: the
 * OpenClaw channel as `{ ok: false, error }`, the HTTP channel as a status
 * and an OpenAI error body. WebSocket close codes belong to the OpenClaw
 * channel (channels/openclaw/close-codes.ts), not to this table.
 */

export const ERROR_CODES = ['INVALID_REQUEST', 'FORBIDDEN', 'UNAVAILABLE', 'AGENT_TIMEOUT'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** OpenAI's `error.type` values for the wire codes. */
export type HttpErrorType = 'invalid_request_error' | 'permission_error' | 'server_error';

/** How a wire code renders over HTTP when its detail code says no more. */
export interface WireCodeSpec {
  httpStatus: number;
  /** OpenAI `error.type`. */
  type: HttpErrorType;
  /** OpenAI `error.code`; null when the message says it all. */
  httpCode: string | null;
}

export const WIRE_CODES: Readonly<Record<ErrorCode, WireCodeSpec>> = {
  INVALID_REQUEST: { httpStatus: 400, type: 'invalid_request_error', httpCode: null },
  FORBIDDEN: { httpStatus: 403, type: 'permission_error', httpCode: 'forbidden' },
  UNAVAILABLE: { httpStatus: 503, type: 'server_error', httpCode: 'unavailable' },
  AGENT_TIMEOUT: { httpStatus: 504, type: 'server_error', httpCode: 'timeout' },
};

export interface DetailCodeSpec {
  code: ErrorCode;
  httpStatus: number;
  /** True when the same request may succeed later; sent as `retryable: true`. */
  retryable: boolean;
}

/** Every `details.code` Pincer sends, with its wire code, HTTP status and retryability. */
export const DETAIL_CODES = {
  // Requests
  INVALID_SESSION_KEY: { code: 'INVALID_REQUEST', httpStatus: 400, retryable: false },
  UNKNOWN_AGENT: { code: 'INVALID_REQUEST', httpStatus: 400, retryable: false },
  SESSION_NOT_FOUND: { code: 'INVALID_REQUEST', httpStatus: 404, retryable: false },
  RUN_NOT_FOUND: { code: 'INVALID_REQUEST', httpStatus: 404, retryable: false },
  MESSAGE_NOT_FOUND: { code: 'INVALID_REQUEST', httpStatus: 404, retryable: false },
  UNKNOWN_MODEL: { code: 'INVALID_REQUEST', httpStatus: 400, retryable: false },
  EMPTY_MESSAGE: { code: 'INVALID_REQUEST', httpStatus: 400, retryable: false },
  MESSAGE_TOO_LONG: { code: 'INVALID_REQUEST', httpStatus: 400, retryable: false },
  IDEMPOTENCY_CONFLICT: { code: 'INVALID_REQUEST', httpStatus: 409, retryable: false },
  MISSING_SCOPE: { code: 'FORBIDDEN', httpStatus: 403, retryable: false },
  STORAGE_UNAVAILABLE: { code: 'UNAVAILABLE', httpStatus: 503, retryable: true },
  UNKNOWN_TOOL_CALL: { code: 'INVALID_REQUEST', httpStatus: 400, retryable: false },
  TOOL_NAME_CONFLICT: { code: 'INVALID_REQUEST', httpStatus: 400, retryable: false },
  // Config writes (config.set / patch / apply)
  CONFIG_CHANGED: { code: 'INVALID_REQUEST', httpStatus: 409, retryable: false },
  INVALID_CONFIG: { code: 'INVALID_REQUEST', httpStatus: 400, retryable: false },
  // The handshake (connect)
  PROTOCOL_MISMATCH: { code: 'INVALID_REQUEST', httpStatus: 400, retryable: false },
  ROLE_UNSUPPORTED: { code: 'INVALID_REQUEST', httpStatus: 400, retryable: false },
  AUTH_RATE_LIMITED: { code: 'INVALID_REQUEST', httpStatus: 429, retryable: true },
  AUTH_NOT_CONFIGURED: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
  AUTH_TOKEN_MISSING: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
  AUTH_PASSWORD_MISSING: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
  AUTH_TOKEN_MISMATCH: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
  AUTH_PASSWORD_MISMATCH: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
  AUTH_DEVICE_TOKEN_MISMATCH: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
  DEVICE_AUTH_NONCE_MISMATCH: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
  DEVICE_AUTH_SIGNATURE_EXPIRED: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
  DEVICE_AUTH_PUBLIC_KEY_INVALID: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
  DEVICE_AUTH_DEVICE_ID_MISMATCH: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
  DEVICE_AUTH_SIGNATURE_INVALID: { code: 'INVALID_REQUEST', httpStatus: 401, retryable: false },
} as const satisfies Record<string, DetailCodeSpec>;
export type DetailCode = keyof typeof DETAIL_CODES;

/** The back-off suggested to every client refused because the gateway starts or drains, ms. */
export const DRAIN_RETRY_AFTER_MS = 2_000;

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
  /** WebSocket close code the OpenClaw channel sends after the error res (1008, 1002, 1013, ...). */
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

  /** The detail code, when it is one of the table's. */
  get detailCode(): DetailCode | undefined {
    const code = this.details?.code;
    return typeof code === 'string' && Object.hasOwn(DETAIL_CODES, code) ? (code as DetailCode) : undefined;
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

/**
 * A GatewayError for a detail code: the wire code and retryability come from
 * the table, `details` gets `code` first and then `extra`.
 */
export function detailError(
  detail: DetailCode,
  message: string,
  options: Omit<GatewayErrorOptions, 'details'> & { extra?: Record<string, unknown> } = {},
): GatewayError {
  const spec: DetailCodeSpec = DETAIL_CODES[detail];
  const { extra, ...rest } = options;
  return new GatewayError(spec.code, message, {
    ...rest,
    details: { code: detail, ...extra },
    retryable: spec.retryable ? true : rest.retryable,
  });
}

/** What an HTTP channel answers for a GatewayError: status, OpenAI type and code, and a Retry-After in seconds. */
export interface HttpErrorRendering {
  status: number;
  type: HttpErrorType;
  code: string | null;
  retryAfterSeconds?: number;
}

/** Render a GatewayError for HTTP from the table: the detail code's status when it has one, else its wire code's. */
export function renderHttpError(error: GatewayError): HttpErrorRendering {
  const wire = WIRE_CODES[error.code] ?? { httpStatus: 500, type: 'server_error', httpCode: null };
  const detail = error.detailCode;
  const rendering: HttpErrorRendering = {
    status: detail === undefined ? wire.httpStatus : DETAIL_CODES[detail].httpStatus,
    type: wire.type,
    code: wire.httpCode,
  };
  if (error.retryAfterMs !== undefined) rendering.retryAfterSeconds = Math.ceil(error.retryAfterMs / 1000);
  return rendering;
}

/** `session not found: <key>` — WebClaw redirects to a new chat on this wording (docs/protocol.md §5.3). */
export function sessionNotFound(key: string): GatewayError {
  return detailError('SESSION_NOT_FOUND', `session not found: ${key}`);
}

/** Retryable refusal while the gateway starts or drains (docs/protocol.md §1.2). */
export function gatewayUnavailable(reason: 'startup' | 'shutdown', retryAfterMs = DRAIN_RETRY_AFTER_MS): GatewayError {
  return new GatewayError('UNAVAILABLE', `gateway unavailable: ${reason === 'shutdown' ? 'shutting down' : 'starting'}`, {
    details: { reason },
    retryable: true,
    retryAfterMs,
  });
}
