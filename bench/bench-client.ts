/**
 * A lean OpenClaw protocol client for benchmarks. Unlike the test client it
 * keeps no frame log: responses resolve pending requests by id, event frames
 * go to one callback as raw bytes (parsed only by the scenario that needs
 * to), so the client costs the same against Pincer and against the floor.
 */

import WebSocket, { type RawData } from 'ws';

/** Bound of any single wait (open, connect, one request), ms. */
export const CLIENT_WAIT_MS = 15_000;
const EVENT_PREFIX = Buffer.from('{"type":"event"');
const CHALLENGE_PREFIX = Buffer.from('{"type":"event","event":"connect.challenge"');

interface Pending {
  resolve(payload: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export interface ConnectOptions {
  token: string;
  /** Wait for connect.challenge before sending connect (default false: send at once). */
  waitForChallenge?: boolean;
}

let clientCount = 0;

export class BenchClient {
  readonly ws: WebSocket;
  /** Called with every sequenced event frame, undecoded, and performance.now() of its arrival. */
  onEvent: ((data: Buffer, at: number) => void) | undefined;
  /** performance.now() when connect.challenge arrived (undefined until then). */
  challengeAt: number | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #prefix = `b${++clientCount}-`;
  #nextId = 0;
  #challengeWaiter: (() => void) | undefined;
  readonly #closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.#closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('close', (code, reason) => this.#failAll(new Error(`socket closed ${code} ${reason.toString()}`)));
    ws.on('error', () => {
      // 'close' follows and fails what is pending.
    });
  }

  /** Open a socket; resolves on `open`. */
  static open(url: string): Promise<BenchClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: CLIENT_WAIT_MS });
    const client = new BenchClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(new Error(`upgrade refused: HTTP ${res.statusCode}`));
      });
      ws.once('error', reject);
    });
  }

  /** Open and authenticate in one go. */
  static async connected(url: string, options: ConnectOptions): Promise<BenchClient> {
    const client = await BenchClient.open(url);
    try {
      await client.connect(options);
    } catch (error) {
      client.terminate();
      throw error;
    }
    return client;
  }

  /** Resolves once connect.challenge has arrived. */
  waitForChallenge(): Promise<void> {
    if (this.challengeAt !== undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no connect.challenge')), CLIENT_WAIT_MS);
      this.#challengeWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Send connect; resolves with hello-ok's payload, rejects on ok:false. */
  async connect(options: ConnectOptions): Promise<unknown> {
    if (options.waitForChallenge === true) await this.waitForChallenge();
    return this.request('connect', {
      minProtocol: 3,
      maxProtocol: 4,
      client: { id: 'gateway-client', version: '0.0.0', platform: 'linux', mode: 'backend' },
      role: 'operator',
      scopes: ['operator.admin'],
      caps: [],
      auth: { token: options.token },
    });
  }

  /** Send one request; resolves with its payload, rejects on ok:false, close or timeout. */
  request(method: string, params: unknown = {}): Promise<unknown> {
    const id = `${this.#prefix}${++this.#nextId}`;
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) {
        reject(new Error(`socket not open for ${method}`));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, CLIENT_WAIT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ type: 'req', id, method, params }));
    });
  }

  /** Close politely and wait (bounded by ws's own close timeout). */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(1000);
    const timer = setTimeout(() => this.ws.terminate(), CLIENT_WAIT_MS);
    await this.#closed;
    clearTimeout(timer);
  }

  terminate(): void {
    this.ws.terminate();
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    const buffer = data as Buffer;
    const at = performance.now();
    if (startsWith(buffer, EVENT_PREFIX)) {
      if (startsWith(buffer, CHALLENGE_PREFIX)) {
        this.challengeAt = at;
        this.#challengeWaiter?.();
        this.#challengeWaiter = undefined;
      } else {
        this.onEvent?.(buffer, at);
      }
      return;
    }
    let frame: { type?: unknown; id?: unknown; ok?: unknown; payload?: unknown; error?: { message?: unknown } };
    try {
      frame = JSON.parse(buffer.toString('utf8'));
    } catch {
      return;
    }
    if (frame.type !== 'res' || typeof frame.id !== 'string') return;
    const pending = this.#pending.get(frame.id);
    if (pending === undefined) return;
    this.#pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.ok === true) pending.resolve(frame.payload);
    else pending.reject(new Error(`request failed: ${String(frame.error?.message ?? 'unknown error')}`));
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }
}

function startsWith(buffer: Buffer, prefix: Buffer): boolean {
  return buffer.length >= prefix.length && buffer.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** Run `task` over `items` with at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Open `count` authenticated clients, `concurrency` handshakes at a time (Pincer caps pending sockets per IP). */
export function openClients(url: string, token: string, count: number, concurrency: number): Promise<BenchClient[]> {
  return mapLimit(Array.from({ length: count }), concurrency, () => BenchClient.connected(url, { token }));
}

/** Close many clients at once. */
export async function closeClients(clients: readonly BenchClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close()));
}
