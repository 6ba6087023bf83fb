/**
 * Session keys (docs/protocol.md §4.3): canonical form `agent:<agentId>:<rest>`,
 * lowercased. Canonicalisation only lowercases ASCII and adds the default
 * agent prefix; it never strips or replaces characters, so distinct canonical
 * keys always mean distinct sessions, and storage names are hashes of them.
 */

import { createHash } from 'node:crypto';
import { GatewayError } from '../protocol/errors.js';

/** Longest accepted key, raw or canonical, in characters (all ASCII, so also bytes). */
export const MAX_SESSION_KEY_CHARS = 512;
/** Longest `:`-separated segment, in characters. */
export const MAX_SESSION_KEY_SEGMENT_CHARS = 128;
/** The agent a short key (`main`, a UUID) belongs to when none is configured. */
export const DEFAULT_AGENT_ID = 'main';
/** Short name of the session every agent has from the start (created lazily). */
export const MAIN_SESSION_NAME = 'main';
/** Canonical key of the default agent's main session. */
export const MAIN_SESSION_KEY = `agent:${DEFAULT_AGENT_ID}:${MAIN_SESSION_NAME}`;

const KEY_PREFIX = 'agent:';
const SEGMENT_CHAR = /^[A-Za-z0-9._-]$/;
const CANONICAL_KEY = /^agent:[a-z0-9._-]+(?::[a-z0-9._-]+)+$/;

export interface SessionKeyOptions {
  /** Configured agent ids; a key naming any other agent is rejected. */
  agentIds: readonly string[];
  /** Agent for short keys. Default `main`. */
  defaultAgentId?: string;
}

export interface ParsedSessionKey {
  agentId: string;
  /** Everything after `agent:<agentId>:`, one or more `:`-separated segments. */
  rest: string;
}

/**
 * Map a client-supplied key onto its canonical form.
 * `main` → `agent:main:main`, `peer-second` → `agent:main:peer-second`,
 * `Agent:Main:X` → `agent:main:x`.
 * @throws GatewayError INVALID_REQUEST `invalid session key: …` or `unknown agent: <id>`.
 */
export function canonicalizeSessionKey(raw: string, options: SessionKeyOptions): string {
  if (typeof raw !== 'string') throw invalidKey('must be a string');
  if (raw.length === 0) throw invalidKey('must not be empty');
  if (raw.length > MAX_SESSION_KEY_CHARS) throw invalidKey(`longer than ${MAX_SESSION_KEY_CHARS} characters`);
  checkCharacters(raw);

  // Only ASCII is left, so lowercasing cannot fold two different characters
  // outside A-Z together (the Kelvin sign, dotted I, … were rejected above).
  const lower = raw.toLowerCase();
  let agentId: string;
  let rest: string;
  if (lower.startsWith(KEY_PREFIX)) {
    const colon = lower.indexOf(':', KEY_PREFIX.length);
    if (colon < 0) throw invalidKey('expected agent:<agentId>:<name>');
    agentId = lower.slice(KEY_PREFIX.length, colon);
    rest = lower.slice(colon + 1);
    checkSegment(agentId, 'agent id');
  } else {
    agentId = (options.defaultAgentId ?? DEFAULT_AGENT_ID).toLowerCase();
    rest = lower;
  }
  checkRest(rest);
  if (!options.agentIds.some((id) => id.toLowerCase() === agentId)) {
    throw new GatewayError('INVALID_REQUEST', `unknown agent: ${agentId}`, { details: { code: 'UNKNOWN_AGENT' } });
  }
  const canonical = `${KEY_PREFIX}${agentId}:${rest}`;
  if (canonical.length > MAX_SESSION_KEY_CHARS) {
    throw invalidKey(`longer than ${MAX_SESSION_KEY_CHARS} characters once canonical`);
  }
  return canonical;
}

/** True when `key` is already in canonical form (shape only; the agent list is not consulted). */
export function isCanonicalSessionKey(key: string): boolean {
  if (typeof key !== 'string' || key.length > MAX_SESSION_KEY_CHARS || !CANONICAL_KEY.test(key)) return false;
  return key
    .split(':')
    .every((segment) => segment.length <= MAX_SESSION_KEY_SEGMENT_CHARS && segment !== '.' && segment !== '..');
}

/**
 * Split a canonical key into agent id and rest.
 * @throws GatewayError INVALID_REQUEST when the key is not canonical.
 */
export function parseSessionKey(canonical: string): ParsedSessionKey {
  if (!isCanonicalSessionKey(canonical)) throw invalidKey('not in canonical form agent:<agentId>:<name>');
  const colon = canonical.indexOf(':', KEY_PREFIX.length);
  return { agentId: canonical.slice(KEY_PREFIX.length, colon), rest: canonical.slice(colon + 1) };
}

/** Storage file name of a session: sha256 hex of the canonical key, plus `.jsonl`. */
export function sessionFileName(canonical: string): string {
  return `${createHash('sha256').update(canonical, 'utf8').digest('hex')}.jsonl`;
}

function checkCharacters(raw: string): void {
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === ':' || SEGMENT_CHAR.test(ch)) continue;
    const code = raw.charCodeAt(i);
    if (code === 0) throw invalidKey('contains a NUL character');
    if (code < 0x20 || code === 0x7f) throw invalidKey('contains a control character');
    if (ch === '/' || ch === '\\') throw invalidKey('contains a path separator');
    if (code > 0x7f) throw invalidKey('contains a non-ASCII character');
    throw invalidKey(`contains ${JSON.stringify(ch)}; allowed are A-Z a-z 0-9 . _ - and : between segments`);
  }
}

function checkRest(rest: string): void {
  for (const segment of rest.split(':')) checkSegment(segment, 'segment');
}

function checkSegment(segment: string, what: string): void {
  if (segment.length === 0) throw invalidKey(`empty ${what}`);
  if (segment.length > MAX_SESSION_KEY_SEGMENT_CHARS) {
    throw invalidKey(`${what} longer than ${MAX_SESSION_KEY_SEGMENT_CHARS} characters`);
  }
  if (segment === '.' || segment === '..') throw invalidKey(`${what} "${segment}" is not allowed`);
}

function invalidKey(reason: string): GatewayError {
  return new GatewayError('INVALID_REQUEST', `invalid session key: ${reason}`, {
    details: { code: 'INVALID_SESSION_KEY' },
  });
}
