/**
 * Script and record shapes of the fake model server (fake-model-server.ts),
 * shared with its two wire formats (fake-model-openai.ts, fake-model-anthropic.ts).
 */

import type { IncomingHttpHeaders } from 'node:http';

export interface FakeToolCall {
  /** Default: `call_fake_<request>_<n>` (OpenAI) or `toolu_fake_<request>_<n>` (Anthropic). */
  id?: string;
  name: string;
  /** An object is sent as JSON; a string is sent verbatim (use it for invalid JSON). */
  arguments: Record<string, unknown> | string;
}

/** One scripted model reply. Everything is optional; `{}` is an empty successful reply. */
export interface FakeReply {
  /** Text, or its chunks (one SSE event each). */
  text?: string | string[];
  /** Reasoning chunks, streamed before the text. */
  thinking?: string | string[];
  toolCalls?: FakeToolCall[];
  /** Pause between two content chunks, ms (default 0). */
  chunkDelayMs?: number;
  /** Pause before the response headers, ms (default 0). */
  firstByteDelayMs?: number;
  /** Answer with this HTTP status and the API's error JSON instead of a stream. */
  status?: number;
  /** Text of that error (default: the real service's wording). */
  errorMessage?: string;
  /** Fail this many times (with `status`, default 500), then stream the reply; stays queued until it succeeds. */
  failTimes?: number;
  /** Cut the connection after this many content chunks (0: right after the headers). */
  disconnectAfterChunks?: number;
  /** After the content chunks, send the API's in-stream error event with this message and end the stream. */
  streamError?: string;
  /** Default: derived from the request and reply sizes (about 4 chars a token). `cacheWrite` is sent by the Anthropic format only. */
  usage?: { input: number; output: number; cacheRead?: number; cacheWrite?: number };
  /** Default: `toolUse` when there are tool calls, else `stop`. */
  stopReason?: 'stop' | 'length' | 'toolUse';
  /** OpenAI format: delta field for reasoning (default `reasoning_content`, as vLLM; Ollama and OpenRouter use `reasoning`). */
  reasoningField?: 'reasoning_content' | 'reasoning';
  /** Sent as `retry-after-ms` with an error status. */
  retryAfterMs?: number;
  /** Sent as the standard `retry-after` header (whole seconds) with an error status. */
  retryAfterSeconds?: number;
}

export type FakeApi = 'openai' | 'anthropic';

/** A request as the server received it. */
export interface RecordedRequest {
  /** 1-based arrival number. */
  seq: number;
  api: FakeApi;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (an object; validated before it is recorded). */
  body: Record<string, unknown>;
}

/** A fixed reply, or one computed from the request (e.g. answer based on the last message). */
export type FakeScript = FakeReply | ((request: RecordedRequest) => FakeReply);

/** A reply with defaults applied, ready for a wire format. */
export interface ResolvedReply {
  seq: number;
  model: string;
  textChunks: string[];
  thinkingChunks: string[];
  toolCalls: { id: string | undefined; name: string; json: string }[];
  usage: { input: number; output: number; cacheRead: number; cacheWrite: number };
  stopReason: 'stop' | 'length' | 'toolUse';
  reasoningField: 'reasoning_content' | 'reasoning';
  streamError: string | undefined;
  /** The request asked for a usage chunk (OpenAI `stream_options.include_usage`). */
  includeUsage: boolean;
}

/** One SSE event as written. `content` events count for delays and disconnectAfterChunks. */
export interface SseFrame {
  text: string;
  content: boolean;
}

/** Tool arguments are streamed in pieces of this many chars, as the real services do. */
export const ARGUMENT_FRAGMENT_CHARS = 12;
/** Fixed `created` stamp, so replies are byte-for-byte repeatable, epoch s. */
export const FAKE_CREATED_S = 1_767_225_600;

/** Split a string into fragments of at most `size` chars (at least one, possibly empty). */
export function splitFragments(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** `data: <json>\n\n`, optionally preceded by `event: <name>`. */
export function sse(data: unknown, event?: string): string {
  const json = typeof data === 'string' ? data : JSON.stringify(data);
  return event === undefined ? `data: ${json}\n\n` : `event: ${event}\ndata: ${json}\n\n`;
}
