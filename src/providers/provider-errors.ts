/**
 * Readable run errors for model-call failures. Every provider maps its SDK's
 * errors through these builders so a run ends with the same wording whatever
 * the endpoint (style.md §4: provider failures are data, not exceptions).
 */

import * as v from 'valibot';
import type { ProviderEvent } from './types.js';

export type ProviderErrorEvent = Extract<ProviderEvent, { type: 'error' }>;

/** Longest provider-supplied detail quoted in a run error, chars. */
const MAX_DETAIL_CHARS = 300;

/** Statuses worth retrying (vercel/ai APICallError): timeout, conflict, rate limit, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Statuses that refuse the request itself (malformed, too large, unprocessable):
 * another model would refuse the same request, so they never fail over.
 * 401/403/404 are about this endpoint's key or model and do fail over.
 */
export function isRequestRejectionStatus(status: number): boolean {
  return status === 400 || status === 413 || status === 422;
}

/** What a message needs about the call that failed. */
export interface ErrorContext {
  model: string;
  /** Endpoint base URL, already stripped of credentials (see redactUrl). */
  baseUrl: string;
  timeoutMs: number;
}

/** Error for a non-2xx answer. `detail` is the provider's own message, if any. */
export function httpError(status: number, detail: string | undefined, ctx: ErrorContext): ProviderErrorEvent {
  const retryable = isRetryableStatus(status);
  let message: string;
  if (status === 401) {
    // The provider's text may echo part of the key, so it is left out on purpose.
    message = 'model provider rejected the API key (HTTP 401): check PINCER_API_KEY';
  } else if (status === 403) {
    message = withDetail('model provider denied access (HTTP 403)', detail);
  } else if (status === 404) {
    message = `model not found: ${ctx.model} (HTTP 404)`;
  } else if (status === 429) {
    message = 'rate limited by the model provider (HTTP 429)';
  } else if (status >= 500) {
    message = `model provider error (HTTP ${status})`;
  } else {
    message = withDetail(`model provider rejected the request (HTTP ${status})`, detail);
  }
  const event: ProviderErrorEvent = { type: 'error', message, status, retryable };
  if (isRequestRejectionStatus(status)) event.requestRejected = true;
  return event;
}

/** Error for a connection that could not be made (DNS, refused, reset, TLS). */
export function connectionError(reason: string, ctx: ErrorContext): ProviderErrorEvent {
  return { type: 'error', message: `cannot reach the model provider at ${ctx.baseUrl}: ${reason}`, retryable: true };
}

/** Error for no response, or no next chunk, within the per-request timeout. */
export function timeoutError(ctx: ErrorContext): ProviderErrorEvent {
  return { type: 'error', message: `model request timed out after ${ctx.timeoutMs} ms`, retryable: true };
}

/** Error for a stream that stopped before the model said it was finished. */
export function streamCutError(): ProviderErrorEvent {
  return { type: 'error', message: 'model stream ended unexpectedly', retryable: true };
}

/** Error for a chunk that is not valid JSON. */
export function malformedStreamError(): ProviderErrorEvent {
  return { type: 'error', message: 'model provider sent a malformed stream chunk', retryable: true };
}

/** Error event sent inside a stream (OpenRouter `{error}` chunks, Anthropic `event: error`). */
export function streamErrorEvent(kind: string | undefined, detail: string | undefined): ProviderErrorEvent {
  const retryable = kind !== undefined && /overload|server|api_error|rate|timeout/i.test(kind);
  const event: ProviderErrorEvent = { type: 'error', message: withDetail('model provider error', detail), retryable };
  if (kind !== undefined && /invalid_request|request_too_large/i.test(kind)) event.requestRejected = true;
  return event;
}

/** Any failure we did not anticipate; keeps the run readable without internals. */
export function unexpectedError(err: unknown): ProviderErrorEvent {
  const text = err instanceof Error ? err.message : String(err);
  return { type: 'error', message: withDetail('model call failed', text), retryable: false };
}

const DetailSchema = v.object({ message: v.string() });
const NestedDetailSchema = v.object({ error: DetailSchema });

/**
 * The provider's human message from an error body: `{message}` (what the
 * OpenAI SDK keeps) or `{error: {message}}` (a whole Anthropic error body).
 */
export function readErrorDetail(body: unknown): string | undefined {
  const flat = v.safeParse(DetailSchema, body);
  if (flat.success) return flat.output.message;
  const nested = v.safeParse(NestedDetailSchema, body);
  if (nested.success) return nested.output.error.message;
  return undefined;
}

const KindSchema = v.object({ type: v.string() });
const NestedKindSchema = v.object({ error: KindSchema });

/** The provider's error kind (`server_error`, `overloaded_error`, ...), if any. */
export function readErrorKind(body: unknown): string | undefined {
  const nested = v.safeParse(NestedKindSchema, body);
  if (nested.success) return nested.output.error.type;
  const flat = v.safeParse(KindSchema, body);
  if (flat.success && flat.output.type !== 'error') return flat.output.type;
  return undefined;
}

/** The innermost cause's message: `connect ECONNREFUSED 127.0.0.1:9`, not `fetch failed`. */
export function rootCauseMessage(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 8; depth++) {
    if (!(current instanceof Error)) break;
    const next: unknown = current.cause;
    if (!(next instanceof Error)) break;
    current = next;
  }
  if (current instanceof Error) return current.message || current.name;
  return String(current);
}

/** A base URL safe to show: no user info, query or fragment. Unparsable input is shown as `(invalid URL)`. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

function withDetail(prefix: string, detail: string | undefined): string {
  const text = detail?.trim();
  if (!text) return prefix;
  const clipped = text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text;
  return `${prefix}: ${clipped}`;
}

/** The error classes both official SDKs export under the same names. */
export interface SdkErrorClasses {
  APIError: abstract new (...args: never[]) => Error & { status: number | undefined; headers: Headers | undefined; error: unknown };
  APIConnectionError: abstract new (...args: never[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
}

/** A mapped failure plus the wait the provider asked for before a retry. */
export interface MappedFailure {
  event: ProviderErrorEvent;
  retryAfterMs?: number;
}

/**
 * Map an error thrown by an SDK call or stream. Errors that are not the SDK's
 * own come from reading the body (undici `terminated`, a reset socket) and
 * mean the stream was cut.
 */
export function mapSdkError(err: unknown, sdk: SdkErrorClasses, ctx: ErrorContext): MappedFailure {
  if (err instanceof sdk.APIConnectionTimeoutError) return { event: timeoutError(ctx) };
  if (err instanceof sdk.APIConnectionError) return { event: connectionError(rootCauseMessage(err), ctx) };
  if (err instanceof sdk.APIError) {
    if (err.status === undefined) {
      return { event: streamErrorEvent(readErrorKind(err.error), readErrorDetail(err.error) ?? err.message) };
    }
    return { event: httpError(err.status, readErrorDetail(err.error), ctx), retryAfterMs: readRetryAfterMs(err.headers) };
  }
  if (err instanceof SyntaxError) return { event: malformedStreamError() };
  return { event: streamCutError() };
}

/** `retry-after-ms`, else `retry-after` (seconds or an HTTP date), as the SDKs read them. */
export function readRetryAfterMs(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  return undefined;
}
