/**
 * Dependencies and options of the OpenAI-compatible HTTP channel
 * (docs/protocol.md §7.1). main.ts maps config and concrete services onto these.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Assistant } from '../../assistant/types.js';
import type { AuthRateLimiter } from '../../security/auth-rate-limiter.js';
import type { RequestGate } from '../../security/request-gate.js';
import type { AuthSecretResolver } from '../../security/secret-compare.js';

/** Default request body cap: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface OpenAiHttpOptions {
  /** Largest accepted request body, bytes (default 1 MiB). Larger bodies get 413. */
  maxBodyBytes?: number;
  /** Overall timeout handed to each run, ms (default: the agent's own). */
  runTimeoutMs?: number;
  /** Interval of SSE keepalive comments while a stream is idle, ms (default 15000). */
  sseKeepaliveMs?: number;
}

/** The part of the shared failed-auth limiter (docs/protocol.md §8.4) this channel uses. */
export type OpenAiHttpRateLimiter = Pick<AuthRateLimiter, 'check' | 'recordFailure' | 'recordSuccess'>;

/** The few log calls this channel makes. Never given secrets. */
export interface OpenAiHttpLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface OpenAiHttpDeps {
  /** The façade every call goes through (send, watch, abort, describe). */
  assistant: Assistant;
  getAuthSecret: AuthSecretResolver;
  /** Session key canonicaliser (docs/protocol.md §4.3); throws GatewayError on a bad key. */
  canonicalize(raw: string): string;
  /** Configured agent ids, read per request (agents.create adds some); the first is the default (`main`). */
  agentIds(): readonly string[];
  logger: OpenAiHttpLogger;
  options?: OpenAiHttpOptions;
  /** Shared with the WebSocket channel so both count toward one lockout. */
  rateLimiter?: OpenAiHttpRateLimiter;
  /** Host/Origin gate shared with the WebSocket upgrade (default: loopback Hosts and Origins only). */
  gate?: RequestGate;
}

/** Handles the request when it is under `/v1`, else returns false and touches nothing. */
export type OpenAiHttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
