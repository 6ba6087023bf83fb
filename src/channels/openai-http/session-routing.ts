/**
 * Which session an OpenAI-compatible call runs in. Precedence:
 * 1. header `x-pincer-session-key` (or OpenClaw's documented
 *    `x-openclaw-session-key`), canonicalised like any other key;
 * 2. the body's `user` string → `agent:<agentId>:openai-user:<sanitised user>`,
 *    a stable session shared by both endpoints;
 * 3. else a new ephemeral `agent:<agentId>:openai:<uuid>` (chat completions)
 *    or `agent:<agentId>:openresponses:<uuid>` (responses), as OpenClaw does.
 */

import { createHash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_KEY_HEADERS = ['x-pincer-session-key', 'x-openclaw-session-key'] as const;

/** Longest readable part kept from a `user` string. */
const MAX_USER_SEGMENT_CHARS = 64;
/** Hex digits of the hash appended when sanitising lost information. */
const USER_HASH_HEX_CHARS = 12;

export type EphemeralKind = 'openai' | 'openresponses';

export interface SessionRoute {
  sessionKey: string;
  source: 'header' | 'user' | 'ephemeral';
  /** The header that carried the key, for error messages. */
  header?: string;
}

export interface ResolveSessionInput {
  headers: IncomingHttpHeaders;
  user: string | undefined;
  agentId: string;
  kind: EphemeralKind;
  canonicalize(raw: string): string;
}

/** Pick the session for one call. Throws what `canonicalize` throws for a bad header key. */
export function resolveSessionRoute(input: ResolveSessionInput): SessionRoute {
  for (const header of SESSION_KEY_HEADERS) {
    const raw = input.headers[header];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined && value.trim() !== '') {
      return { sessionKey: input.canonicalize(value.trim()), source: 'header', header };
    }
  }
  if (input.user !== undefined && input.user !== '') {
    return {
      sessionKey: input.canonicalize(`agent:${input.agentId}:openai-user:${sanitizeUserSegment(input.user)}`),
      source: 'user',
    };
  }
  return { sessionKey: input.canonicalize(`agent:${input.agentId}:${input.kind}:${randomUUID()}`), source: 'ephemeral' };
}

/**
 * Map an arbitrary `user` string onto one session-key segment
 * (`[a-z0-9._-]`, docs/protocol.md §4.3). Simple lower-case ids stay readable; when
 * anything had to change (case included), a hash of the original is appended
 * so distinct users never share a session.
 */
export function sanitizeUserSegment(user: string): string {
  const cleaned = user.toLowerCase().replace(/[^a-z0-9._-]/g, '-').slice(0, MAX_USER_SEGMENT_CHARS);
  // Compared with the original, not its lower case: "Alice" and "alice" are different users.
  const lossy = cleaned !== user || cleaned === '.' || cleaned === '..';
  if (!lossy) return cleaned;
  const digest = createHash('sha256').update(user, 'utf8').digest('hex').slice(0, USER_HASH_HEX_CHARS);
  return cleaned === '' ? digest : `${cleaned}-${digest}`;
}
