/**
 * Shape of one OpenClaw method entry (style.md §3): a param schema, the scope
 * it needs and a handler that returns the payload or throws GatewayError.
 */

import type { GenericSchema } from 'valibot';

export type Scope = 'operator.read' | 'operator.write' | 'operator.admin';

/** What a handler may use of its connection; handlers never write to sockets. */
export interface MethodContext {
  connId: string;
  /** Granted scopes after implication (admin ⊇ write ⊇ read). */
  scopes: ReadonlySet<Scope>;
  /** Mark this connection as watching a session (chat events, history readers). */
  watchSession(sessionKey: string): void;
  /** sessions.subscribe / unsubscribe: receive sessions.changed + session.message for all sessions. */
  setSessionsSubscribed(on: boolean): void;
  /** sessions.messages.subscribe: session.message for one key. */
  setMessagesSubscribed(sessionKey: string, on: boolean): void;
  /** For methods with two responses (agent): send an extra res with this request's id. */
  sendExtraResponse(payload: unknown): void;
  sendExtraError(error: unknown): void;
  /** True once the socket has closed (long handlers check before extra responses). */
  readonly closed: boolean;
}

export interface MethodEntry<P = any> {
  /** valibot schema of `params` (missing params are `{}`); unknown keys ignored. */
  params: GenericSchema<unknown, P>;
  scope: Scope;
  handler(params: P, ctx: MethodContext): Promise<unknown> | unknown;
}

export type MethodTable = Record<string, MethodEntry>;

/**
 * A protocol event produced from a bus event, with who may receive it:
 * `read`: every authenticated connection holding operator.read;
 * `sessions`: connections that called sessions.subscribe;
 * `session-messages`: connections subscribed to all sessions or to `sessionKey` via sessions.messages.subscribe.
 */
export interface WireEvent {
  event: string;
  payload: unknown;
  audience: 'read' | 'sessions' | 'session-messages';
  sessionKey?: string;
}
