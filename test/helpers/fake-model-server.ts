/**
 * A real HTTP model server on 127.0.0.1 for tests and benchmarks. It speaks
 * the OpenAI Chat Completions API (POST /v1/chat/completions) and the
 * Anthropic Messages API (POST /v1/messages), streaming SSE like the real
 * services, from a queue of scripted replies. It records every request and
 * counts streams that are open, finished, cut by the server or closed by the
 * client (to prove cancellation).
 */

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as v from 'valibot';
import { anthropicErrorBody, anthropicMessageBody, anthropicStreamFrames } from './fake-model-anthropic.js';
import { openAICompletionBody, openAIErrorBody, openAIStreamFrames } from './fake-model-openai.js';
import type { FakeApi, FakeReply, FakeScript, RecordedRequest, ResolvedReply, SseFrame } from './fake-model-types.js';

export type { FakeReply, FakeScript, FakeToolCall, RecordedRequest } from './fake-model-types.js';

/** Reply used when the queue is empty and no default was set. */
export const FAKE_DEFAULT_REPLY: FakeReply = { text: ['Hello', ' from', ' the', ' fake', ' model.'] };
/** Longest request body accepted, bytes. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Default bound of waitFor(), ms. */
const DEFAULT_WAIT_MS = 2_000;

export interface FakeModelServerOptions {
  /** First default reply (default FAKE_DEFAULT_REPLY). */
  defaultReply?: FakeScript;
  /** When set, requests without this key (Bearer or x-api-key) get the API's 401. */
  apiKey?: string;
  /** Ignore every scripted delay (benchmarks). */
  zeroDelay?: boolean;
  /** Called right before each content chunk is written (benchmarks time the first one). */
  onContentChunk?: (request: RecordedRequest, index: number) => void;
}

export interface FakeModelStats {
  /** Streams being written now. */
  inFlight: number;
  /** Streams written to the end. */
  completed: number;
  /** Requests the client closed before the end of the reply (also before the first byte). */
  aborted: number;
  /** Streams the server cut on purpose (disconnectAfterChunks). */
  disconnected: number;
}

export interface FakeModelServer {
  /** Base URL for the OpenAI-compatible provider: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  /** Base URL for the Anthropic provider: `http://127.0.0.1:<port>`. */
  readonly anthropicUrl: string;
  readonly port: number;
  /** Every model request, in arrival order. */
  readonly requests: RecordedRequest[];
  readonly stats: Readonly<FakeModelStats>;
  /** Queue replies; each request takes the head of the queue, else the default. */
  enqueue(...scripts: FakeScript[]): void;
  setDefault(script: FakeScript): void;
  /** Empty the queue and the request log, zero the stats and restore the first default. */
  reset(): void;
  /** Resolve once `predicate` holds (checked on every request and stream change); reject after `timeoutMs`. */
  waitFor(predicate: (server: FakeModelServer) => boolean, timeoutMs?: number): Promise<void>;
  /** Stop listening, end open streams and cancel every pending timer. */
  close(): Promise<void>;
}

const OpenAIBodySchema = v.looseObject({
  model: v.string(),
  messages: v.array(v.unknown()),
  stream: v.optional(v.nullable(v.boolean())),
  stream_options: v.optional(v.nullable(v.looseObject({ include_usage: v.optional(v.boolean()) }))),
});
const AnthropicBodySchema = v.looseObject({
  model: v.string(),
  messages: v.array(v.unknown()),
  max_tokens: v.number(),
  stream: v.optional(v.boolean()),
});

interface QueueEntry {
  script: FakeScript;
  failuresLeft: number | undefined;
}

/** Start the server on 127.0.0.1, port 0. */
export async function startFakeModelServer(options: FakeModelServerOptions = {}): Promise<FakeModelServer> {
  const initialDefault = options.defaultReply ?? FAKE_DEFAULT_REPLY;
  let defaultScript = initialDefault;
  let queue: QueueEntry[] = [];
  const requests: RecordedRequest[] = [];
  const stats: FakeModelStats = { inFlight: 0, completed: 0, aborted: 0, disconnected: 0 };
  const watchers = new Set<() => void>();
  /** Wake-ups of pending delays, called early on close. */
  const pendingDelays = new Set<() => void>();
  let seq = 0;
  let closed = false;

  const notify = (): void => {
    for (const watcher of [...watchers]) watcher();
  };

  const delay = (ms: number, res: ServerResponse): Promise<void> => {
    if (options.zeroDelay || ms <= 0 || closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        pendingDelays.delete(wake);
        res.off('close', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      pendingDelays.add(wake);
      res.once('close', wake);
    });
  };

  const takeReply = (request: RecordedRequest): { reply: FakeReply; fail: boolean } => {
    const entry = queue[0];
    if (!entry) {
      const reply = resolveScript(defaultScript, request);
      return { reply, fail: reply.status !== undefined };
    }
    const reply = resolveScript(entry.script, request);
    if (reply.failTimes !== undefined) {
      entry.failuresLeft ??= reply.failTimes;
      if (entry.failuresLeft > 0) {
        entry.failuresLeft--;
        return { reply, fail: true };
      }
      queue.shift();
      return { reply, fail: false };
    }
    queue.shift();
    return { reply, fail: reply.status !== undefined };
  };

  const handleModelCall = async (req: IncomingMessage, res: ServerResponse, api: FakeApi, path: string): Promise<void> => {
    const raw = await readBody(req);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      sendJson(res, 400, errorBody(api, 400, 'We could not parse the JSON body of your request.', ''));
      return;
    }
    const parsed = parseModelBody(api, json);
    if (typeof parsed === 'string') {
      sendJson(res, 400, errorBody(api, 400, `invalid request body: ${parsed}`, ''));
      return;
    }
    const { body, includeUsage } = parsed;
    const request: RecordedRequest = { seq: ++seq, api, method: req.method ?? 'POST', path, headers: req.headers, body };
    requests.push(request);
    notify();
    if (options.apiKey !== undefined && !hasKey(req, options.apiKey)) {
      sendJson(res, 401, errorBody(api, 401, undefined, body.model));
      return;
    }
    const { reply, fail } = takeReply(request);
    await delay(reply.firstByteDelayMs ?? 0, res);
    if (res.destroyed) {
      // The client gave up before the first byte.
      stats.aborted++;
      notify();
      return;
    }
    if (fail) {
      const status = reply.status ?? 500;
      const headers: Record<string, string> = {};
      if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
      if (reply.retryAfterSeconds !== undefined) headers['retry-after'] = String(reply.retryAfterSeconds);
      sendJson(res, status, errorBody(api, status, reply.errorMessage, body.model), headers);
      return;
    }
    const resolved = resolveReply(reply, request, body.model, includeUsage);
    if (body.stream !== true) {
      sendJson(res, 200, api === 'openai' ? openAICompletionBody(resolved) : anthropicMessageBody(resolved));
      return;
    }
    const frames = api === 'openai' ? openAIStreamFrames(resolved) : anthropicStreamFrames(resolved);
    await writeStream(res, frames, reply, request);
  };

  const writeStream = async (res: ServerResponse, frames: SseFrame[], reply: FakeReply, request: RecordedRequest): Promise<void> => {
    let cutByServer = false;
    stats.inFlight++;
    notify();
    res.once('close', () => {
      stats.inFlight--;
      if (cutByServer) stats.disconnected++;
      else if (res.writableFinished) stats.completed++;
      else stats.aborted++;
      notify();
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    let sent = 0;
    for (const frame of frames) {
      if (res.destroyed || closed) return;
      if (frame.content) {
        if (reply.disconnectAfterChunks !== undefined && sent >= reply.disconnectAfterChunks) {
          cutByServer = true;
          // end() flushes what was written, then closes without the final chunk: a cut stream.
          res.socket?.end();
          return;
        }
        if (sent > 0) await delay(reply.chunkDelayMs ?? 0, res);
        if (res.destroyed || closed) return;
        options.onContentChunk?.(request, sent);
        sent++;
      }
      res.write(frame.text);
    }
    res.end();
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routeOf(req.method ?? 'GET', path);
    if (route === 'models') {
      sendJson(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] });
      return;
    }
    if (route === undefined) {
      sendJson(res, 404, { error: { message: `no route for ${req.method} ${path}`, type: 'invalid_request_error' } });
      return;
    }
    handleModelCall(req, res, route, path).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(err), type: 'server_error' } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const fake: FakeModelServer = {
    url: `http://127.0.0.1:${port}/v1`,
    anthropicUrl: `http://127.0.0.1:${port}`,
    port,
    requests,
    stats,
    enqueue(...scripts) {
      for (const script of scripts) queue.push({ script, failuresLeft: undefined });
    },
    setDefault(script) {
      defaultScript = script;
    },
    reset() {
      queue = [];
      requests.length = 0;
      defaultScript = initialDefault;
      stats.completed = 0;
      stats.aborted = 0;
      stats.disconnected = 0;
    },
    waitFor(predicate, timeoutMs = DEFAULT_WAIT_MS) {
      return new Promise((resolve, reject) => {
        if (predicate(fake)) {
          resolve();
          return;
        }
        const check = (): void => {
          if (!predicate(fake)) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`fake model server: condition not met within ${timeoutMs} ms (stats ${JSON.stringify(stats)})`));
        }, timeoutMs);
        watchers.add(check);
      });
    },
    async close() {
      closed = true;
      for (const wake of [...pendingDelays]) wake();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

function routeOf(method: string, path: string): FakeApi | 'models' | undefined {
  const trimmed = path.replace(/\/+$/, '');
  if (method === 'GET' && (trimmed === '/v1/models' || trimmed === '/models')) return 'models';
  if (method !== 'POST') return undefined;
  if (trimmed === '/v1/chat/completions' || trimmed === '/chat/completions') return 'openai';
  if (trimmed === '/v1/messages' || trimmed === '/messages') return 'anthropic';
  return undefined;
}

function resolveScript(script: FakeScript, request: RecordedRequest): FakeReply {
  return typeof script === 'function' ? script(request) : script;
}

function resolveReply(reply: FakeReply, request: RecordedRequest, model: string, includeUsage: boolean): ResolvedReply {
  const textChunks = toChunks(reply.text);
  const thinkingChunks = toChunks(reply.thinking);
  const toolCalls = (reply.toolCalls ?? []).map((call) => ({
    id: call.id,
    name: call.name,
    json: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  }));
  const outputChars = [...textChunks, ...thinkingChunks, ...toolCalls.map((call) => call.json)].join('').length;
  const usage = reply.usage ?? {
    input: Math.max(1, Math.ceil(JSON.stringify(request.body.messages ?? []).length / 4)),
    output: Math.max(1, Math.ceil(outputChars / 4)),
  };
  return {
    seq: request.seq,
    model,
    textChunks,
    thinkingChunks,
    toolCalls,
    usage: { input: usage.input, output: usage.output, cacheRead: usage.cacheRead ?? 0, cacheWrite: usage.cacheWrite ?? 0 },
    stopReason: reply.stopReason ?? (toolCalls.length > 0 ? 'toolUse' : 'stop'),
    reasoningField: reply.reasoningField ?? 'reasoning_content',
    streamError: reply.streamError,
    includeUsage,
  };
}

function toChunks(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

interface ModelBody {
  body: Record<string, unknown> & { model: string; stream?: boolean | null };
  /** OpenAI sends the usage chunk only on request; Anthropic always reports usage. */
  includeUsage: boolean;
}

/** The validated body, or a summary of what is wrong with it. */
function parseModelBody(api: FakeApi, json: unknown): ModelBody | string {
  if (api === 'openai') {
    const parsed = v.safeParse(OpenAIBodySchema, json);
    if (!parsed.success) return v.summarize(parsed.issues);
    return { body: parsed.output, includeUsage: parsed.output.stream_options?.include_usage === true };
  }
  const parsed = v.safeParse(AnthropicBodySchema, json);
  if (!parsed.success) return v.summarize(parsed.issues);
  return { body: parsed.output, includeUsage: true };
}

function errorBody(api: FakeApi, status: number, message: string | undefined, model: string): Record<string, unknown> {
  return api === 'openai' ? openAIErrorBody(status, message, model) : anthropicErrorBody(status, message, model);
}

function hasKey(req: IncomingMessage, key: string): boolean {
  return req.headers.authorization === `Bearer ${key}` || req.headers['x-api-key'] === key;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
