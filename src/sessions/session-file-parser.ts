/**
 * Pure parsing of one session file's bytes into its header, messages and
 * meta. Damage is reported, never thrown: a bad line is skipped, a torn last
 * line (bytes after the final newline that do not form a record) is reported
 * with the offset to cut it at, so the store can repair the file.
 */

import type { SessionMeta, StoredMessage } from './types.js';
import { decodeRecord, SESSION_FILE_VERSION, type SessionHeaderRecord } from './session-records.js';
import { applyLabelToMeta, applyMessageToMeta, createSessionMeta } from './session-meta.js';
import { isCanonicalSessionKey } from './session-key.js';
import { trackOpenRuns } from './open-runs.js';

const NEWLINE = 0x0a;

export interface SessionFileIssue {
  /** 1-based line number. */
  line: number;
  reason: string;
}

/**
 * What follows the last newline: nothing; a complete record that lacks its
 * newline (kept; the next append must add one first); or torn bytes (skipped;
 * cut the file at `completeBytes` before appending).
 */
export type SessionFileTail = 'none' | 'unterminated' | 'torn';

export interface ParsedSessionFile {
  /** Null when line 1 is not a usable header: the file cannot be attributed to a key. */
  header: SessionHeaderRecord | null;
  /** Null exactly when `header` is null. */
  meta: SessionMeta | null;
  /** Oldest first, unique ids. */
  messages: StoredMessage[];
  /** RunIds of runs with a user row and no closing row, in opening order. */
  openRuns: string[];
  /** Skipped lines and other damage, each worth a warning. */
  issues: SessionFileIssue[];
  /** Length of the newline-terminated prefix, in bytes. */
  completeBytes: number;
  tail: SessionFileTail;
}

/** Parse a whole session file. Never throws. */
export function parseSessionFile(bytes: Uint8Array): ParsedSessionFile {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const completeBytes = buffer.lastIndexOf(NEWLINE) + 1;
  const lines = buffer.toString('utf8', 0, completeBytes).split('\n');
  lines.pop(); // the empty string after the final newline (or the only element when there is none)
  const issues: SessionFileIssue[] = [];

  let tail: SessionFileTail = 'none';
  if (completeBytes < buffer.length) {
    const tailText = buffer.toString('utf8', completeBytes);
    if (decodeRecord(tailText).ok) {
      tail = 'unterminated';
      lines.push(tailText);
    } else {
      tail = 'torn';
      issues.push({
        line: lines.length + 1,
        reason: `torn last line skipped (${buffer.length - completeBytes} bytes)`,
      });
    }
  }

  const parsed: ParsedSessionFile = { header: null, meta: null, messages: [], openRuns: [], issues, completeBytes, tail };
  const first = lines.length > 0 ? decodeRecord(lines[0]) : { ok: false as const, reason: 'empty file' };
  if (!first.ok || first.record.type !== 'session') {
    issues.push({ line: 1, reason: first.ok ? 'first line is not a session header' : first.reason });
    return parsed;
  }
  const header = first.record;
  if (header.version > SESSION_FILE_VERSION) {
    issues.push({ line: 1, reason: `unsupported session file version ${header.version}` });
    return parsed;
  }
  if (!isCanonicalSessionKey(header.key)) {
    issues.push({ line: 1, reason: 'header key is not a canonical session key' });
    return parsed;
  }

  const meta = createSessionMeta(header);
  const seenIds = new Set<string>();
  const openRuns = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim().length === 0) continue;
    const decoded = decodeRecord(line);
    if (!decoded.ok) {
      issues.push({ line: i + 1, reason: decoded.reason });
      continue;
    }
    const record = decoded.record;
    if (record.type === 'session') {
      issues.push({ line: i + 1, reason: 'unexpected second header' });
    } else if (record.type === 'meta') {
      if (record.label !== undefined) applyLabelToMeta(meta, record.label, record.at);
      else meta.updatedAt = Math.max(meta.updatedAt, record.at);
    } else if (seenIds.has(record.message.id)) {
      issues.push({ line: i + 1, reason: `duplicate message id ${record.message.id}` });
    } else {
      seenIds.add(record.message.id);
      parsed.messages.push(record.message);
      applyMessageToMeta(meta, record.message, record.at);
      trackOpenRuns(openRuns, record.message);
    }
  }
  parsed.openRuns = [...openRuns];
  parsed.header = header;
  parsed.meta = meta;
  return parsed;
}
