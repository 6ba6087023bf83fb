/**
 * Low-level HTTP plumbing of the OpenAI-compatible API: bounded JSON body
 * reading, OpenAI-shaped error replies, JSON replies and SSE framing.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

/** After a 413 we keep reading (and discarding) at most this much, so the client can read the reply before we close. */
const DRAIN_MAX_BYTES = 16 * 1024 * 1024;
/** ...and for at most this long. */
const DRAIN_TIMEOUT_MS = 5_000;

/** OpenAI's `error.type` values that Pincer uses. */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'unauthorized'
  | 'rate_limit_error'
  | 'permission_error'
  | 'not_found_error'
  | 'server_error'
  | 'api_error';

export interface OpenAiErrorInit {
  status: number;
  message: string;
  type: OpenAiErrorType;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
}

const COMMON_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Send a JSON body with the common security headers. No-op once the response is gone. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** The `{ error: {...} }` body OpenAI clients parse. */
export function openAiErrorBody(init: Pick<OpenAiErrorInit, 'message' | 'type' | 'param' | 'code'>): {
  error: { message: string; type: string; param: string | null; code: string | null };
} {
  return { error: { message: init.message, type: init.type, param: init.param ?? null, code: init.code ?? null } };
}

/** Reply with an OpenAI-shaped error. */
export function sendOpenAiError(res: ServerResponse, init: OpenAiErrorInit): void {
  sendJson(res, init.status, openAiErrorBody(init), init.headers);
}

/**
 * 401 with all four fields OpenAI clients read (OpenClaw's lacks `param` and
 * `code`; docs/protocol.md §7.1). `type` stays OpenClaw's `unauthorized`.
 */
export function sendUnauthorized(res: ServerResponse): void {
  sendOpenAiError(res, {
    status: 401,
    message: "Unauthorized: send this gateway's auth.token (or the token `pincer token` prints) as the bearer API key.",
    type: 'unauthorized',
    code: 'invalid_api_key',
  });
}

export type BodyResult = { ok: true; value: unknown } | { ok: false; status: 400 | 413; message: string };

/**
 * Read the whole request body, at most `maxBytes`, and parse it as JSON.
 * On overflow the rest of the body is drained in the background (bounded) so
 * the 413 reaches the client instead of a connection reset.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  // A client that resets mid-upload must not become an unhandled 'error' once our listeners are gone.
  req.on('error', ignoreError);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    drainRequest(req);
    return tooLarge(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // 'overflow', 'end', or 'gone' when the client left mid-upload (nothing to answer then).
  const ending = await new Promise<'overflow' | 'end' | 'gone'>((resolve) => {
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        drainRequest(req);
        resolve('overflow');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve('end');
    };
    const onGone = (): void => {
      cleanup();
      resolve('gone');
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
  if (ending === 'gone') return { ok: false, status: 400, message: 'The request body was cut off.' };
  if (ending === 'overflow') return tooLarge(maxBytes);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: false, status: 400, message: 'The request body is empty; expected a JSON object.' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, status: 400, message: 'We could not parse the JSON body of your request.' };
  }
}

function ignoreError(): void {}

function tooLarge(maxBytes: number): BodyResult {
  return { ok: false, status: 413, message: `Request body too large: the limit is ${maxBytes} bytes.` };
}

/** Discard what is left of a rejected body; give up (destroy) past the drain bounds. */
function drainRequest(req: IncomingMessage): void {
  if (req.complete) return;
  let drained = 0;
  const timer = setTimeout(() => req.destroy(), DRAIN_TIMEOUT_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_MAX_BYTES) req.destroy();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/** Open an SSE response (observed headers, docs/protocol.md §7.1). */
export function startSse(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // Reverse proxies (nginx) would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  res.socket?.setNoDelay(true);
  res.flushHeaders();
}

/** True while the response can still be written to. */
export function isWritable(res: ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded;
}

/** Write one `data:` frame (optionally with an `event:` line). */
export function writeSse(res: ServerResponse, data: unknown, event?: string): void {
  if (!isWritable(res)) return;
  const head = event === undefined ? '' : `event: ${event}\n`;
  res.write(`${head}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

/** An SSE comment line; clients ignore it, proxies see traffic. */
export function writeSseComment(res: ServerResponse, text: string): void {
  if (isWritable(res)) res.write(`: ${text}\n\n`);
}

/** End the response if it is still open. */
export function endResponse(res: ServerResponse): void {
  if (isWritable(res)) res.end();
}
