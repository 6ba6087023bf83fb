/**
 * One OpenClaw WebSocket connection: its state machine
 * (AWAIT_CONNECT → AUTHED → CLOSING, docs/protocol.md §8.1), guarded sends with
 * the slow-consumer check, per-connection timers, event sequence numbers and
 * subscriptions. It knows nothing about methods: the channel routes frames.
 */

import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import {
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_POLICY_VIOLATION,
  CLOSE_REASONS,
  CLOSE_TRY_AGAIN_LATER,
  CLOSE_UNSUPPORTED_DATA,
  truncateCloseReason,
} from './close-codes.js';
import { completeEventFrame, eventFramePrefix, serialiseUnsequencedEvent, toJson } from '../../protocol/frames.js';
import { EVENT_CONNECT_CHALLENGE } from '../../protocol/method-names.js';
import { SCOPE_READ, type OperatorScope } from '../../protocol/scopes.js';
import { RequestBudget, type RequestBudgetOptions } from '../../security/request-budget.js';

export type ConnectionState = 'AWAIT_CONNECT' | 'AUTHED' | 'CLOSING';

/** Write errors that mean the peer is gone rather than a write we should not have made. */
const PEER_GONE_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_DESTROYED']);

const NO_SCOPES: ReadonlySet<OperatorScope> = new Set();

/** Bytes of frame headers, pings and close frames tolerated on top of the pre-auth frame cap. */
const PRE_AUTH_SLACK_BYTES = 4096;
/** Most sessions one connection may watch or subscribe to individually. */
export const MAX_SESSION_SUBSCRIPTIONS = 1024;

export interface ConnectionLimits {
  /** Largest single frame before `connect` succeeds (64 KiB). */
  preAuthMaxBytes: number;
  maxBufferedBytes: number;
  handshakeTimeoutMs: number;
  /** Delay of connect.challenge after the upgrade (Appendix A.1: 20-50 ms). */
  challengeDelayMs: number;
  budget: RequestBudgetOptions;
}

/** What the channel does for its connections. */
export interface ConnectionHost {
  readonly limits: ConnectionLimits;
  /** A complete text frame arrived (size and type already checked). */
  onText(conn: Connection, text: string): void;
  onStateChange(conn: Connection, from: ConnectionState, to: ConnectionState): void;
  /** The socket is gone; drop the connection from every registry. */
  onClosed(conn: Connection): void;
  /**
   * A write failed. `peerGone`: the peer vanished (EPIPE, reset, socket
   * destroyed with writes queued), a network event; otherwise it is a
   * write the guards should have prevented.
   */
  onSendError(conn: Connection, error: Error, peerGone: boolean): void;
}

export interface ConnectionInit {
  id: string;
  nonce: string;
  ip: string;
  origin: string | undefined;
  upgradeCredential: string | undefined;
}

export class Connection {
  readonly id: string;
  readonly nonce: string;
  readonly ip: string;
  readonly origin: string | undefined;
  readonly upgradeCredential: string | undefined;
  readonly budget: RequestBudget;
  /** Set by a pong, cleared by each keepalive ping. */
  alive = true;

  readonly #ws: WebSocket;
  readonly #socket: Socket;
  readonly #host: ConnectionHost;
  #state: ConnectionState = 'AWAIT_CONNECT';
  #seq = 0;
  #scopes: ReadonlySet<OperatorScope> = NO_SCOPES;
  #challengeSent = false;
  #challengeTimer: NodeJS.Timeout | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #preAuthBytes = 0;
  #sessionsSubscribed = false;
  // Made on first use: most connections never watch a session, and each set costs a few hundred bytes.
  #watched: Set<string> | undefined;
  #messageKeys: Set<string> | undefined;

  constructor(ws: WebSocket, socket: Socket, init: ConnectionInit, host: ConnectionHost) {
    this.id = init.id;
    this.nonce = init.nonce;
    this.ip = init.ip;
    this.origin = init.origin;
    this.upgradeCredential = init.upgradeCredential;
    this.budget = new RequestBudget(host.limits.budget);
    this.#ws = ws;
    this.#socket = socket;
    this.#host = host;

    ws.on('message', (data, isBinary) => wsOnMessage(this, data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', () => {
      // ws closes the socket itself (invalid UTF-8, oversize frame); 'close' follows.
    });
    ws.on('close', () => this.#dispose());
    socket.on('data', this.#countPreAuthBytes);

    // Not in the 101's write: WebClaw attaches its listener a tick after `open` (Appendix A.1).
    this.#challengeTimer = setTimeout(() => this.flushChallenge(), host.limits.challengeDelayMs);
    this.#handshakeTimer = setTimeout(
      () => this.close(CLOSE_POLICY_VIOLATION, CLOSE_REASONS.handshakeTimeout),
      host.limits.handshakeTimeoutMs,
    );
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Open and not closing: safe to write. */
  get isOpen(): boolean {
    return this.#state !== 'CLOSING' && this.#ws.readyState === WebSocket.OPEN;
  }

  get scopes(): ReadonlySet<OperatorScope> {
    return this.#scopes;
  }

  get canRead(): boolean {
    return this.#scopes.has(SCOPE_READ);
  }

  get sessionsSubscribed(): boolean {
    return this.#sessionsSubscribed;
  }

  /** Number of events sent with a `seq` so far. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Send connect.challenge now unless it already went out. */
  flushChallenge(): void {
    if (this.#challengeTimer !== undefined) clearTimeout(this.#challengeTimer);
    this.#challengeTimer = undefined;
    if (this.#challengeSent || this.#state !== 'AWAIT_CONNECT') return;
    this.#challengeSent = true;
    this.sendText(serialiseUnsequencedEvent(EVENT_CONNECT_CHALLENGE, { nonce: this.nonce, ts: Date.now(), capabilities: [] }));
  }

  /** AWAIT_CONNECT → AUTHED with the granted (implied) scopes. */
  authenticate(scopes: ReadonlySet<OperatorScope>): void {
    if (this.#state !== 'AWAIT_CONNECT') return;
    this.#scopes = scopes;
    this.#clearHandshakeTimers();
    this.#socket.removeListener('data', this.#countPreAuthBytes);
    this.#setState('AUTHED');
  }

  /**
   * Write one text frame. Returns false when nothing was written: the socket
   * is not open, or the peer is too slow (then the connection is closed 1013).
   */
  sendText(text: string, bytes = Buffer.byteLength(text, 'utf8')): boolean {
    if (!this.isOpen) return false;
    if (this.#ws.bufferedAmount + bytes > this.#host.limits.maxBufferedBytes) {
      this.close(CLOSE_TRY_AGAIN_LATER, CLOSE_REASONS.slowConsumer);
      return false;
    }
    this.#ws.send(text, this.#onSent);
    return true;
  }

  /**
   * Send a sequenced event from a shared prefix (see eventFramePrefix). A
   * prefix given as a buffer (a huge event) is sent as is, shared by every
   * connection, and the frame ends in a second WebSocket fragment holding
   * the seq: the event is not copied per connection.
   */
  sendSequenced(prefix: string | Buffer, prefixBytes = typeof prefix === 'string' ? Buffer.byteLength(prefix, 'utf8') : prefix.length): boolean {
    if (this.#state !== 'AUTHED') return false;
    const seq = this.#seq + 1;
    const seqText = String(seq);
    const bytes = prefixBytes + seqText.length + 1;
    const sent =
      typeof prefix === 'string' ? this.sendText(completeEventFrame(prefix, seq), bytes) : this.#sendInTwoFragments(prefix, `${seqText}}`, bytes);
    if (!sent) return false;
    this.#seq = seq;
    return true;
  }

  /** One text message written as two fragments; the same checks as sendText. */
  #sendInTwoFragments(head: Buffer, tail: string, bytes: number): boolean {
    if (!this.isOpen) return false;
    if (this.#ws.bufferedAmount + bytes > this.#host.limits.maxBufferedBytes) {
      this.close(CLOSE_TRY_AGAIN_LATER, CLOSE_REASONS.slowConsumer);
      return false;
    }
    // Both in one synchronous step: nothing else can be written between the fragments of the message.
    this.#ws.send(head, { binary: false, fin: false });
    this.#ws.send(tail, { binary: false, fin: true }, this.#onSent);
    return true;
  }

  /** Send one sequenced event to this connection only. */
  sendEvent(event: string, payload: unknown): boolean {
    return this.sendSequenced(eventFramePrefix(event, toJson(payload)));
  }

  ping(): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    try {
      this.#ws.ping();
    } catch {
      // Socket went away between the check and the write; 'close' will follow.
    }
  }

  /** Start the close handshake; ws destroys the socket if the peer does not answer in time. */
  close(code: number, reason: string): void {
    if (this.#state === 'CLOSING') return;
    this.#setState('CLOSING');
    const state = this.#ws.readyState;
    if (state === WebSocket.OPEN || state === WebSocket.CONNECTING) this.#ws.close(code, truncateCloseReason(reason));
  }

  /** Drop the socket without a close handshake (dead peer). */
  terminate(): void {
    if (this.#state !== 'CLOSING') this.#setState('CLOSING');
    this.#ws.terminate();
  }

  watchSession(sessionKey: string): void {
    if (this.#state !== 'AUTHED') return;
    const watched = (this.#watched ??= new Set());
    if (watched.size < MAX_SESSION_SUBSCRIPTIONS || watched.has(sessionKey)) watched.add(sessionKey);
  }

  setSessionsSubscribed(on: boolean): void {
    if (this.#state !== 'AUTHED') return;
    this.#sessionsSubscribed = on;
  }

  setMessagesSubscribed(sessionKey: string, on: boolean): void {
    if (this.#state !== 'AUTHED') return;
    if (!on) this.#messageKeys?.delete(sessionKey);
    else if ((this.#messageKeys ??= new Set()).size < MAX_SESSION_SUBSCRIPTIONS) this.#messageKeys.add(sessionKey);
  }

  /** Subscribed to session.message for this key (all sessions or this one). */
  wantsSessionMessages(sessionKey: string | undefined): boolean {
    if (this.#sessionsSubscribed) return true;
    return sessionKey !== undefined && this.#messageKeys?.has(sessionKey) === true;
  }

  isWatching(sessionKey: string): boolean {
    return this.#watched?.has(sessionKey) === true;
  }

  /** Live per-connection records, for leak checks. */
  subscriptionCount(): number {
    return (this.#watched?.size ?? 0) + (this.#messageKeys?.size ?? 0) + (this.#sessionsSubscribed ? 1 : 0);
  }

  timerCount(): number {
    return (this.#challengeTimer === undefined ? 0 : 1) + (this.#handshakeTimer === undefined ? 0 : 1);
  }

  /** A frame arrived: enforce the frame rules, then hand text to the channel. */
  handleMessage(data: Buffer, isBinary: boolean): void {
    if (this.#state === 'CLOSING') return;
    if (isBinary) {
      this.close(CLOSE_UNSUPPORTED_DATA, CLOSE_REASONS.binary);
      return;
    }
    // Checked on the byte length, before any decoding or JSON parsing (§8.1).
    if (this.#state === 'AWAIT_CONNECT' && data.length > this.#host.limits.preAuthMaxBytes) {
      this.close(CLOSE_MESSAGE_TOO_BIG, CLOSE_REASONS.tooLarge);
      return;
    }
    this.#host.onText(this, data.toString('utf8'));
  }

  #setState(to: ConnectionState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    if (to === 'CLOSING') {
      this.#clearHandshakeTimers();
      this.#socket.removeListener('data', this.#countPreAuthBytes);
      this.#watched = undefined;
      this.#messageKeys = undefined;
      this.#sessionsSubscribed = false;
    }
    this.#host.onStateChange(this, from, to);
  }

  #clearHandshakeTimers(): void {
    if (this.#challengeTimer !== undefined) clearTimeout(this.#challengeTimer);
    if (this.#handshakeTimer !== undefined) clearTimeout(this.#handshakeTimer);
    this.#challengeTimer = undefined;
    this.#handshakeTimer = undefined;
  }

  #dispose(): void {
    if (this.#state !== 'CLOSING') this.#setState('CLOSING');
    this.#host.onClosed(this);
  }

  /**
   * Raw bytes received before `connect` succeeds. ws would buffer a frame up
   * to the post-auth maxPayload; this stops a pre-auth peer long before that.
   */
  readonly #countPreAuthBytes = (chunk: Buffer): void => {
    if (this.#state !== 'AWAIT_CONNECT') return;
    this.#preAuthBytes += chunk.length;
    if (this.#preAuthBytes > this.#host.limits.preAuthMaxBytes + PRE_AUTH_SLACK_BYTES) {
      this.close(CLOSE_MESSAGE_TOO_BIG, CLOSE_REASONS.tooLarge);
    }
  };

  readonly #onSent = (error?: Error | null): void => {
    if (!error) return;
    const peerGone = PEER_GONE_CODES.has((error as NodeJS.ErrnoException).code ?? '');
    this.#host.onSendError(this, error, peerGone);
    // Stop writing to a dead peer now rather than when the socket reports it.
    if (peerGone && this.#state !== 'CLOSING') this.terminate();
  };
}

function wsOnMessage(conn: Connection, data: RawData, isBinary: boolean): void {
  // ws delivers a single Buffer for the default binaryType 'nodebuffer'.
  const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  conn.handleMessage(buffer, isBinary);
}
