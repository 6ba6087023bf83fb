/**
 * A real `ws` client speaking the OpenClaw protocol, for tests and
 * benchmarks: open, optionally wait for connect.challenge, connect with a
 * token/password/device, request → res, collect events with seq checks, close.
 * Every wait is bounded.
 */

import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import WebSocket from 'ws';

export const DEFAULT_WAIT_MS = 5000;

export interface ResFrame {
  type: 'res';
  id: string;
  ok: boolean;
  payload?: any;
  error?: { code: string; message: string; details?: any; retryable?: boolean; retryAfterMs?: number };
}

export interface EventFrame {
  type: 'event';
  event: string;
  payload: any;
  seq?: number;
}

/** Any received frame, loosely typed for assertions. */
export type AnyFrame = Record<string, any>;

export interface OpenOptions {
  headers?: Record<string, string>;
  protocols?: string[];
  /** Answer pings automatically (default true). Off plays a dead peer. */
  autoPong?: boolean;
  timeoutMs?: number;
  /** Source address, e.g. 127.0.0.2, to play another client IP over loopback. */
  localAddress?: string;
}

export interface DeviceIdentity {
  id: string;
  publicKey: string;
  privateKey: KeyObject;
}

export interface ConnectOptions {
  token?: string;
  password?: string;
  /** Sent as auth.deviceToken, the way the Control UI presents a stored device token. */
  deviceToken?: string;
  minProtocol?: number;
  maxProtocol?: number;
  role?: string;
  scopes?: string[];
  client?: Record<string, unknown>;
  /** Sign a device block over this signed-string version ('v2', 'v3'; 'v1' sends no nonce). */
  device?: { identity: DeviceIdentity; version: 'v1' | 'v2' | 'v3'; nonce?: string; signedAt?: number };
  /** Wait for connect.challenge before sending (default true). */
  waitForChallenge?: boolean;
  /** Merged into params last (raw overrides for hostile tests). */
  extra?: Record<string, unknown>;
  id?: string;
}

/** Fresh Ed25519 identity in OpenClaw's shape (raw key base64url, id = sha256 hex). */
export function generateDeviceIdentity(): DeviceIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { id: createHash('sha256').update(raw).digest('hex'), publicKey: raw.toString('base64url'), privateKey };
}

/** Build a signed device block for these connect params (protocol.md §2.3). */
export function signDevice(
  identity: DeviceIdentity,
  params: Record<string, any>,
  version: 'v1' | 'v2' | 'v3',
  nonce: string | undefined,
  signedAt = Date.now(),
): Record<string, unknown> {
  const fields = [
    version,
    identity.id,
    params.client?.id ?? '',
    params.client?.mode ?? '',
    params.role ?? '',
    (params.scopes ?? []).join(','),
    String(signedAt),
    params.auth?.token ?? params.auth?.deviceToken ?? '',
  ];
  if (version !== 'v1') fields.push(nonce ?? '');
  if (version === 'v3') fields.push(params.client?.platform ?? '', params.client?.deviceFamily ?? '');
  const signature = sign(null, Buffer.from(fields.join('|'), 'utf8'), identity.privateKey).toString('base64url');
  const block: Record<string, unknown> = { id: identity.id, publicKey: identity.publicKey, signature, signedAt };
  if (version !== 'v1') block.nonce = nonce;
  return block;
}

let nextId = 0;

export class ProtocolClient {
  readonly ws: WebSocket;
  /** Every frame received, in order. */
  readonly frames: AnyFrame[] = [];
  /** Sequenced events (everything but connect.challenge). */
  readonly events: EventFrame[] = [];
  /** Problems with frame seq numbers (gaps, repeats, missing). Empty when all is well. */
  readonly seqErrors: string[] = [];
  /** Bytes of event frames received (all events, challenge included). */
  eventBytes = 0;
  closeInfo: { code: number; reason: string } | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #waiters = new Set<{ test: (f: AnyFrame) => boolean; resolve: (f: AnyFrame) => void }>();
  #lastSeq = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolve(this.closeInfo);
      });
    });
    ws.on('error', () => {
      // Surfaced through `closed`.
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      let frame: AnyFrame;
      try {
        frame = JSON.parse(text);
      } catch {
        return;
      }
      this.frames.push(frame);
      if (frame.type === 'event') {
        this.eventBytes += Buffer.byteLength(text);
        this.#checkSeq(frame as EventFrame);
      }
      for (const waiter of [...this.#waiters]) {
        if (waiter.test(frame)) {
          this.#waiters.delete(waiter);
          waiter.resolve(frame);
        }
      }
    });
  }

  /** Open a socket; resolves on `open`, rejects on an HTTP refusal or timeout. */
  static open(url: string, options: OpenOptions = {}): Promise<ProtocolClient> {
    const ws = new WebSocket(url, options.protocols ?? [], {
      headers: options.headers,
      autoPong: options.autoPong ?? true,
      perMessageDeflate: false,
      handshakeTimeout: options.timeoutMs ?? DEFAULT_WAIT_MS,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    const client = new ProtocolClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode }));
      });
      ws.once('error', reject);
    });
  }

  /** Resolve with the first frame (past or future) that matches. */
  waitFor(test: (frame: AnyFrame) => boolean, timeoutMs = DEFAULT_WAIT_MS, label = 'frame'): Promise<AnyFrame> {
    const seen = this.frames.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return this.#waitFuture(test, timeoutMs, label);
  }

  #waitFuture(test: (frame: AnyFrame) => boolean, timeoutMs: number, label: string): Promise<AnyFrame> {
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: (frame: AnyFrame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** The connect.challenge payload. */
  async challenge(timeoutMs = DEFAULT_WAIT_MS): Promise<{ nonce: string; ts: number; capabilities?: unknown[] }> {
    const frame = await this.waitFor((f) => f.type === 'event' && f.event === 'connect.challenge', timeoutMs, 'challenge');
    return (frame as EventFrame).payload;
  }

  /** The next event with this name that arrives after now (or any name when omitted). */
  nextEvent(name?: string, timeoutMs = DEFAULT_WAIT_MS): Promise<EventFrame> {
    const test = (f: AnyFrame) => f.type === 'event' && f.event !== 'connect.challenge' && (name === undefined || f.event === name);
    return this.#waitFuture(test, timeoutMs, `event ${name ?? '*'}`) as Promise<EventFrame>;
  }

  /** Build connect params the way OpenClaw clients do. */
  buildConnectParams(options: ConnectOptions, nonce: string | undefined): Record<string, any> {
    const protocol = options.maxProtocol ?? 4;
    const params: Record<string, any> = {
      minProtocol: options.minProtocol ?? protocol,
      maxProtocol: protocol,
      client: { id: 'test-client', version: '0.0.0', platform: 'linux', mode: 'test', ...options.client },
      role: options.role ?? 'operator',
      scopes: options.scopes ?? ['operator.admin'],
      caps: [],
      auth: {
        ...(options.token !== undefined ? { token: options.token } : {}),
        ...(options.password !== undefined ? { password: options.password } : {}),
        ...(options.deviceToken !== undefined ? { deviceToken: options.deviceToken } : {}),
      },
    };
    if (options.device) {
      const { identity, version, signedAt } = options.device;
      params.device = signDevice(identity, params, version, options.device.nonce ?? nonce, signedAt);
    }
    return { ...params, ...options.extra };
  }

  /** Send connect and resolve with its res (hello-ok or error). */
  async connect(options: ConnectOptions = {}, timeoutMs = DEFAULT_WAIT_MS): Promise<ResFrame> {
    const nonce = options.waitForChallenge === false ? undefined : (await this.challenge(timeoutMs)).nonce;
    return this.request('connect', this.buildConnectParams(options, nonce), { id: options.id, timeoutMs });
  }

  /** Send a request and resolve with its first res. */
  request(method: string, params?: unknown, options: { id?: string; timeoutMs?: number } = {}): Promise<ResFrame> {
    const id = options.id ?? `t-${++nextId}`;
    const frame: Record<string, unknown> = { type: 'req', id, method };
    if (params !== undefined) frame.params = params;
    const res = this.waitFor((f) => f.type === 'res' && f.id === id, options.timeoutMs ?? DEFAULT_WAIT_MS, `res ${method}`);
    this.sendRaw(JSON.stringify(frame));
    return res as Promise<ResFrame>;
  }

  /** All res frames received for one request id. */
  responsesFor(id: string): ResFrame[] {
    return this.frames.filter((f) => f.type === 'res' && f.id === id) as ResFrame[];
  }

  sendRaw(data: string | Buffer, binary = false): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary });
  }

  /** Resolve with the close code and reason, or reject after the timeout. */
  waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string }> {
    return Promise.race([
      this.closed,
      new Promise<never>((_, reject) => {
        const timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms`)), timeoutMs);
        void this.closed.then(() => clearTimeout(timer));
      }),
    ]);
  }

  /** Close politely and wait (bounded); terminates if the server does not answer. */
  async close(code = 1000, timeoutMs = 2000): Promise<void> {
    if (this.closeInfo) return;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code);
    try {
      await this.waitClosed(timeoutMs);
    } catch {
      this.ws.terminate();
      await this.closed;
    }
  }

  #checkSeq(frame: EventFrame): void {
    if (frame.event === 'connect.challenge') {
      if (frame.seq !== undefined) this.seqErrors.push('connect.challenge carried a seq');
      return;
    }
    this.events.push(frame);
    if (typeof frame.seq !== 'number') {
      this.seqErrors.push(`${frame.event} without seq`);
      return;
    }
    if (frame.seq !== this.#lastSeq + 1) this.seqErrors.push(`${frame.event} seq ${frame.seq} after ${this.#lastSeq}`);
    this.#lastSeq = frame.seq;
  }
}
