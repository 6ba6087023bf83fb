/**
 * Runs one request of an authenticated connection through the same steps
 * (style.md §3): parse → lookup → scope → params → handler → exactly one res.
 * The one place that catches handler errors and writes `res` frames.
 */

import * as v from 'valibot';
import { GatewayError, type ErrorShape } from '../../protocol/errors.js';
import { CLOSE_POLICY_VIOLATION, CLOSE_REASONS } from '../../protocol/close-codes.js';
import type { ParsedFrame } from '../../protocol/frame-parser.js';
import { serialiseErrorResponse, serialiseOkResponse } from '../../protocol/frames.js';
import { formatFirstIssue } from '../../protocol/issue-message.js';
import { CONNECT_METHOD } from '../../protocol/method-names.js';
import type { MethodContext, MethodEntry, MethodTable } from './method-types.js';
import type { Connection } from './connection.js';
import type { ChannelLogger, SampledLog } from './channel-logger.js';

export interface DispatchContext {
  methods: MethodTable;
  /** policy.maxPayload: no res larger than this is ever sent. */
  maxPayload: number;
  logger: ChannelLogger;
  rejections: SampledLog;
  now(): number;
}

/** The generic answer for anything that is not a GatewayError: no internals. */
export const INTERNAL_ERROR: ErrorShape = { code: 'UNAVAILABLE', message: 'internal error' };

/** Handle one parsed frame of an AUTHED connection. Never throws. */
export function dispatchFrame(conn: Connection, parsed: ParsedFrame, ctx: DispatchContext): void {
  if (!conn.budget.noteRequest(ctx.now())) {
    ctx.rejections.warn('request rate exceeded', { connId: conn.id });
    conn.close(CLOSE_POLICY_VIOLATION, CLOSE_REASONS.tooManyErrors);
    return;
  }
  if (parsed.kind === 'unreadable') {
    // No id to answer to: drop the frame, but keep the socket, so one client bug does not end what it watches
    // (issue 13 item 8). It still counts as an error, so a flood of them exhausts the budget.
    ctx.rejections.warn('unreadable frame dropped', { connId: conn.id, reason: parsed.reason });
    noteError(conn, ctx);
    return;
  }
  if (parsed.kind === 'invalid') {
    respondError(conn, parsed.id, { code: 'INVALID_REQUEST', message: parsed.message }, ctx);
    return;
  }

  const { id, method, params } = parsed.frame;
  if (method === CONNECT_METHOD) {
    respondError(conn, id, { code: 'INVALID_REQUEST', message: 'already connected' }, ctx);
    return;
  }
  // Own keys only: "constructor" or "__proto__" are not methods.
  const entry: MethodEntry | undefined = Object.hasOwn(ctx.methods, method) ? ctx.methods[method] : undefined;
  if (entry === undefined) {
    respondError(conn, id, { code: 'INVALID_REQUEST', message: `unknown method: ${method}` }, ctx);
    return;
  }
  if (!conn.scopes.has(entry.scope)) {
    respondError(
      conn,
      id,
      {
        code: 'FORBIDDEN',
        message: `missing scope: ${entry.scope}`,
        details: { code: 'MISSING_SCOPE', missingScope: entry.scope, requiredScopes: [entry.scope] },
      },
      ctx,
    );
    return;
  }
  const checked = v.safeParse(entry.params, params);
  if (!checked.success) {
    respondError(conn, id, { code: 'INVALID_REQUEST', message: `invalid ${method} params: ${formatFirstIssue(checked.issues)}` }, ctx);
    return;
  }

  let answered = false;
  const succeed = (payload: unknown): void => {
    if (answered) return;
    answered = true;
    respondOk(conn, id, payload, ctx);
  };
  const fail = (error: unknown): void => {
    if (answered) return;
    answered = true;
    respondThrown(conn, id, method, error, ctx);
  };

  let result: unknown;
  try {
    result = entry.handler(checked.output, createMethodContext(conn, id, method, ctx));
  } catch (error) {
    fail(error);
    return;
  }
  if (isPromiseLike(result)) result.then(succeed, fail);
  else succeed(result);
}

function createMethodContext(conn: Connection, id: string, method: string, ctx: DispatchContext): MethodContext {
  return {
    connId: conn.id,
    scopes: conn.scopes,
    watchSession: (sessionKey) => conn.watchSession(sessionKey),
    setSessionsSubscribed: (on) => conn.setSessionsSubscribed(on),
    setMessagesSubscribed: (sessionKey, on) => conn.setMessagesSubscribed(sessionKey, on),
    sendExtraResponse: (payload) => respondOk(conn, id, payload, ctx),
    sendExtraError: (error) => respondThrown(conn, id, method, error, ctx),
    get closed() {
      return !conn.isOpen;
    },
  };
}

function respondOk(conn: Connection, id: string, payload: unknown, ctx: DispatchContext): void {
  let text: string;
  try {
    text = serialiseOkResponse(id, payload);
  } catch (error) {
    respondThrown(conn, id, 'serialise', error, ctx);
    return;
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > ctx.maxPayload) {
    ctx.logger.warn('response larger than maxPayload', { connId: conn.id, bytes });
    respondError(conn, id, { code: 'UNAVAILABLE', message: 'response too large' }, ctx);
    return;
  }
  conn.sendText(text, bytes);
  conn.budget.noteOutcome(true);
}

function respondThrown(conn: Connection, id: string, method: string, error: unknown, ctx: DispatchContext): void {
  if (error instanceof GatewayError) {
    respondError(conn, id, error.toShape(), ctx);
    if (error.closeCode !== undefined) conn.close(error.closeCode, error.message);
    return;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  ctx.logger.error('method handler failed', { connId: conn.id, method, error: stack });
  respondError(conn, id, INTERNAL_ERROR, ctx);
}

function respondError(conn: Connection, id: string, error: ErrorShape, ctx: DispatchContext): void {
  conn.sendText(serialiseErrorResponse(id, error));
  noteError(conn, ctx);
}

/** Count one failed frame against the consecutive-error budget; close 1008 once it is spent. */
function noteError(conn: Connection, ctx: DispatchContext): void {
  if (!conn.budget.noteOutcome(false)) {
    ctx.rejections.warn('error budget exhausted', { connId: conn.id });
    conn.close(CLOSE_POLICY_VIOLATION, CLOSE_REASONS.tooManyErrors);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
