/**
 * Pure parsing of one session file's bytes into its header, messages and
 * meta. Damage is reported, never thrown: a bad line hides only itself (a
 * placeholder row stands in for a damaged message, so readers see the gap
 * and a run whose reply was on it is not taken for cut); a garbled header is
 * re-derived from its copy on line 2, or from a hint (index.json); a torn
 * last line (bytes after the final newline that do not form a record) is
 * reported with the offset to cut it at, so the store can repair the file.
 */

import { createHash } from 'node:crypto';
import type { SessionMeta, StoredMessage } from './types.js';
import { decodeRecord, SESSION_FILE_VERSION, type SessionHeaderRecord, type SessionRecord } from './session-records.js';
import { applyMessageToMeta, applyMetaRecord, createSessionMeta } from './session-meta.js';
import { isCanonicalSessionKey } from './session-key.js';
import { OpenRuns } from './open-runs.js';
import { placeInConversation } from './conversation-order.js';

const NEWLINE = 0x0a;
/** Id prefix of the rows that stand in for damaged message lines. */
export const DAMAGED_ROW_ID_PREFIX = 'damaged-line-';
/** A runId as JSON writes it, found in a line that no longer parses. */
const RUN_ID_IN_LINE = /"runId":"([^"\\]{1,256})"/;

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

/** Where the header came from: line 1, its copy further down, or the caller's hint. */
export type HeaderSource = 'line1' | 'copy' | 'hint';

export interface ParsedSessionFile {
  /** Null when no usable header was found: the file cannot be attributed to a key. */
  header: SessionHeaderRecord | null;
  headerSource: HeaderSource | null;
  /** Null exactly when `header` is null. */
  meta: SessionMeta | null;
  /** In conversation order (see conversation-order.ts), unique ids, placeholders for damaged rows included. */
  messages: StoredMessage[];
  /** Runs with a user row and no closing row, with their drafts. */
  openRuns: OpenRuns;
  /** Skipped lines and other damage, each worth a warning. */
  issues: SessionFileIssue[];
  /** Rows that stand in for damaged message lines. */
  damagedRows: number;
  /** Length of the newline-terminated prefix, in bytes. */
  completeBytes: number;
  tail: SessionFileTail;
}

/**
 * Parse a whole session file. Never throws. `hint` is the header to assume
 * when line 1 and its copy are both unreadable (the caller checks that its
 * key matches the file name).
 */
export function parseSessionFile(bytes: Uint8Array, hint?: SessionHeaderRecord): ParsedSessionFile {
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

  const parsed: ParsedSessionFile = {
    header: null,
    headerSource: null,
    meta: null,
    messages: [],
    openRuns: new OpenRuns(),
    issues,
    damagedRows: 0,
    completeBytes,
    tail,
  };
  const records: (SessionRecord | undefined)[] = lines.map((line) => {
    if (line.trim().length === 0) return undefined;
    const decoded = decodeRecord(line);
    return decoded.ok ? decoded.record : undefined;
  });
  const found = findHeader(lines, records, issues, hint);
  if (found === undefined) return parsed;
  const { header, source } = found;
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
  const openRuns = parsed.openRuns;
  const addMessage = (message: StoredMessage, at: number): void => {
    seenIds.add(message.id);
    placeInConversation(parsed.messages, message);
    applyMessageToMeta(meta, message, at);
    openRuns.note(message);
  };
  let lastAt = header.createdAt;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim().length === 0) continue;
    const record = records[i];
    if (record === undefined) {
      const reason = decodeRecord(line);
      issues.push({ line: i + 1, reason: reason.ok ? 'unreadable record' : reason.reason });
      const placeholder = damagedRow(line, i + 1, lastAt, openRuns);
      if (placeholder !== undefined) {
        parsed.damagedRows += 1;
        addMessage(placeholder, lastAt);
      }
      continue;
    }
    if (record.type !== 'session') lastAt = Math.max(lastAt, record.at);
    if (record.type === 'session') {
      if (record.key !== header.key) issues.push({ line: i + 1, reason: 'unexpected second header' });
    } else if (record.type === 'meta') {
      applyMetaRecord(meta, record);
    } else if (record.type === 'draft') {
      openRuns.addDraft(record.runId, record.text);
    } else if (seenIds.has(record.message.id)) {
      issues.push({ line: i + 1, reason: `duplicate message id ${record.message.id}` });
    } else {
      addMessage(record.message, record.at);
    }
  }
  parsed.header = header;
  parsed.headerSource = source;
  parsed.meta = meta;
  return parsed;
}

/** The header: line 1, else the first intact copy, else the hint. Logs line 1's damage. */
function findHeader(
  lines: string[],
  records: (SessionRecord | undefined)[],
  issues: SessionFileIssue[],
  hint: SessionHeaderRecord | undefined,
): { header: SessionHeaderRecord; source: HeaderSource } | undefined {
  const first = records[0];
  if (first?.type === 'session') return { header: first, source: 'line1' };
  const reason = lines.length === 0 ? 'empty file' : first !== undefined ? 'first line is not a session header' : decodeReason(lines[0] as string);
  issues.push({ line: 1, reason });
  for (let i = 1; i < records.length; i++) {
    const record = records[i];
    if (record?.type === 'session') return { header: record, source: 'copy' };
  }
  return hint === undefined ? undefined : { header: hint, source: 'hint' };
}

function decodeReason(line: string): string {
  const decoded = decodeRecord(line);
  return decoded.ok ? 'unreadable record' : decoded.reason;
}

/**
 * The row shown in place of a damaged line: undefined for lines that held no
 * message (meta or draft records). Its runId is read from the raw text when it
 * survived, else it is taken to belong to the newest open run, whose reply it
 * most likely was; either way that run counts as ended, not cut by a crash.
 */
function damagedRow(line: string, lineNumber: number, at: number, openRuns: OpenRuns): StoredMessage | undefined {
  if (line.startsWith('{"type":"meta"') || line.startsWith('{"type":"draft"') || line.startsWith('{"type":"session"')) return undefined;
  const runId = RUN_ID_IN_LINE.exec(line)?.[1] ?? openRuns.ids().at(-1);
  const row: StoredMessage = {
    // The line's hash keeps the id unique should a rewritten file be damaged again at the same line.
    id: `${DAMAGED_ROW_ID_PREFIX}${lineNumber}-${createHash('sha256').update(line).digest('hex').slice(0, 12)}`,
    role: 'assistant',
    content: [{ type: 'text', text: `[this message could not be read: line ${lineNumber} of the session file is damaged]` }],
    timestamp: at,
    stopReason: 'error',
    errorMessage: `damaged record in the session file (line ${lineNumber})`,
  };
  if (runId !== undefined) row.runId = runId;
  return row;
}
