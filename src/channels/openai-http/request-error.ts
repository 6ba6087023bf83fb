/**
 * The one error the OpenAI-compatible handlers throw for a request they
 * refuse; the handler turns it into `{ error: { message, type, param, code } }`.
 * Refusals from below (GatewayError) render from the one error table.
 */

import { renderHttpError, type GatewayError } from '../../protocol/errors.js';
import type { OpenAiErrorType } from './http-io.js';

export interface RequestErrorOptions {
  status?: number;
  type?: OpenAiErrorType;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
}

export class OpenAiRequestError extends Error {
  readonly status: number;
  readonly type: OpenAiErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers?: Record<string, string>;

  constructor(message: string, options: RequestErrorOptions = {}) {
    super(message);
    this.name = 'OpenAiRequestError';
    this.status = options.status ?? 400;
    this.type = options.type ?? 'invalid_request_error';
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers;
  }
}

/** 400 naming the offending parameter. */
export function invalidParam(param: string, message: string, code: string | null = null): OpenAiRequestError {
  return new OpenAiRequestError(message, { status: 400, param, code });
}

/** A GatewayError as this channel answers it: status, type, code and Retry-After from the error table. */
export function fromGatewayError(error: GatewayError): OpenAiRequestError {
  const rendering = renderHttpError(error);
  const headers: Record<string, string> = {};
  if (rendering.retryAfterSeconds !== undefined) headers['retry-after'] = String(rendering.retryAfterSeconds);
  return new OpenAiRequestError(error.message, { status: rendering.status, type: rendering.type, code: rendering.code, headers });
}
