/**
 * A small structured logger: one JSON object per line on stderr (or one
 * human-readable line, `time LEVEL message key=value`, for a terminal),
 * pino-style numeric levels, child loggers with bound fields, and redaction
 * of secret-looking keys at any depth. Kept dependency-free because it loads
 * at start-up.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_VALUES: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

/**
 * Keys whose values are replaced with REDACTED wherever they appear in a log
 * record: anything ending in token, password, secret, apiKey, authorization,
 * cookie or credential(s). Anchored at the end so `tokenFile` or
 * `inputTokens` stay readable.
 */
const SECRET_KEY_PATTERN = /(token|password|passwd|secret|api[-_]?key|authorization|cookie|credentials?)$/i;
const REDACTED = '[redacted]';
/** Nested fields deeper than this are summarised, so a huge object cannot stall the process. */
const MAX_DEPTH = 6;
const MAX_STRING_CHARS = 8192;
const MAX_ARRAY_ITEMS = 50;

export type LogFields = Record<string, unknown>;

/** `json`: one JSON object per line, for files and collectors. `pretty`: `12:00:00.000 INFO  message key=value`. */
export type LogFormat = 'json' | 'pretty';

export interface Logger {
  readonly level: LogLevel;
  isLevelEnabled(level: LogLevel): boolean;
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  fatal(msg: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every record (and inherits the parent's). */
  child(bindings: LogFields): Logger;
  /** Change the level of this logger, its parent and all their children (config hot reload). */
  setLevel?(level: LogLevel): void;
  /**
   * Also hand every written record, as one JSON line without the newline, to
   * `sink` (the logs.tail ring). Returns a function that removes it.
   */
  addSink?(sink: (jsonLine: string) => void): () => void;
}

export interface LoggerOptions {
  /** Minimum level written. Default "info". */
  level?: LogLevel;
  /** Fields added to every record. */
  bindings?: LogFields;
  /** Where each line (with its trailing newline) goes. Default: process.stderr. */
  write?: (line: string) => void;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
  /** Default "json". */
  format?: LogFormat;
}

/** `auto` picks pretty lines for a terminal and JSON for pipes, files and supervisors. */
export function resolveLogFormat(format: LogFormat | 'auto', isTerminal: boolean): LogFormat {
  return format === 'auto' ? (isTerminal ? 'pretty' : 'json') : format;
}

/** Whether `value` names a log level. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** Create a JSON-lines logger. Records look like {"level":"info","time":…,"msg":"…",…fields}. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const state: LoggerState = {
    level,
    threshold: LEVEL_VALUES[level],
    write: options.write ?? writeStderr,
    now: options.now ?? Date.now,
    render: options.format === 'pretty' ? renderPretty : renderJson,
    sinks: [],
  };
  return buildLogger(state, sanitizeFields(options.bindings ?? {}));
}

/** A logger that drops everything (tests, library use). */
export function createSilentLogger(): Logger {
  return createLogger({ level: 'silent' });
}

/** Shared by a logger and all its children, so a level change or a sink reaches every one of them. */
interface LoggerState {
  level: LogLevel;
  threshold: number;
  write: (line: string) => void;
  now: () => number;
  render: (record: LogRecord) => string;
  sinks: ((jsonLine: string) => void)[];
}

function buildLogger(state: LoggerState, bindings: LogFields): Logger {
  const emit = (recordLevel: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void => {
    if (LEVEL_VALUES[recordLevel] < state.threshold) return;
    const record: LogRecord = { level: recordLevel, time: state.now(), msg, ...bindings };
    if (fields !== undefined) Object.assign(record, sanitizeFields(fields));
    let line: string;
    try {
      line = state.render(record);
    } catch {
      line = JSON.stringify({ level: recordLevel, time: state.now(), msg, logError: 'unserialisable fields' });
    }
    try {
      state.write(line + '\n');
    } catch {
      // A closed stderr must never take the gateway down.
    }
    if (state.sinks.length > 0) {
      const json = state.render === renderJson ? line : safeJson(record, recordLevel, msg, state.now);
      for (const sink of state.sinks) sink(json);
    }
  };
  return {
    get level() {
      return state.level;
    },
    isLevelEnabled: (candidate) => LEVEL_VALUES[candidate] >= state.threshold && candidate !== 'silent',
    trace: (msg, fields) => emit('trace', msg, fields),
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    fatal: (msg, fields) => emit('fatal', msg, fields),
    child: (extra) => buildLogger(state, { ...bindings, ...sanitizeFields(extra) }),
    setLevel(level) {
      state.level = level;
      state.threshold = LEVEL_VALUES[level];
    },
    addSink(sink) {
      state.sinks = [...state.sinks, sink];
      return () => {
        state.sinks = state.sinks.filter((entry) => entry !== sink);
      };
    },
  };
}

function safeJson(record: LogRecord, level: LogRecord['level'], msg: string, now: () => number): string {
  try {
    return renderJson(record);
  } catch {
    return JSON.stringify({ level, time: now(), msg, logError: 'unserialisable fields' });
  }
}

type LogRecord = LogFields & { level: Exclude<LogLevel, 'silent'>; time: number; msg: string };

function renderJson(record: LogRecord): string {
  return JSON.stringify(record);
}

/** `HH:MM:SS.mmm LEVEL message key=value …`, local time; an error's stack follows on indented lines. */
function renderPretty(record: LogRecord): string {
  const { level, time, msg, ...fields } = record;
  const parts = [formatClock(time), level.toUpperCase().padEnd(5), msg];
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (isErrorRecord(value)) {
      parts.push(`${key}=${prettyValue(value.message)}`);
      if (typeof value.stack === 'string' && LEVEL_VALUES[level] >= LEVEL_VALUES.warn) stacks.push(value.stack);
      continue;
    }
    parts.push(`${key}=${prettyValue(value)}`);
  }
  const indented = stacks.flatMap((stack) => stack.split('\n').slice(1).map((line) => `    ${line.trim()}`));
  return [parts.join(' '), ...indented].join('\n');
}

function prettyValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function isErrorRecord(value: unknown): value is { message: unknown; stack?: unknown } {
  return typeof value === 'object' && value !== null && 'type' in value && 'message' in value && !Array.isArray(value);
}

function formatClock(epochMs: number): string {
  const date = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

function sanitizeFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  const seen = new WeakSet<object>();
  for (const [key, value] of Object.entries(fields)) {
    out[key] = SECRET_KEY_PATTERN.test(key) ? REDACTED : sanitizeValue(value, 1, seen);
  }
  return out;
}

function sanitizeValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') {
    return value.length > MAX_STRING_CHARS ? `${value.slice(0, MAX_STRING_CHARS)}…[${value.length} chars]` : value;
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth > MAX_DEPTH) return '[nested]';
  seen.add(value);
  try {
    if (value instanceof Error) return serializeError(value, depth, seen);
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ARRAY_ITEMS).map((item) => sanitizeValue(item, depth + 1, seen));
      if (value.length > MAX_ARRAY_ITEMS) items.push(`…[${value.length - MAX_ARRAY_ITEMS} more]`);
      return items;
    }
    if (value instanceof Date) return value.toISOString();
    if (Buffer.isBuffer(value)) return `[buffer ${value.length} bytes]`;
    const out: LogFields = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_KEY_PATTERN.test(key) ? REDACTED : sanitizeValue(inner, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function serializeError(error: Error, depth: number, seen: WeakSet<object>): LogFields {
  const out: LogFields = { type: error.name, message: error.message };
  if (error.stack !== undefined) out.stack = error.stack;
  if ('code' in error && error.code !== undefined) out.code = sanitizeValue(error.code, depth + 1, seen);
  if (error.cause !== undefined) out.cause = sanitizeValue(error.cause, depth + 1, seen);
  return out;
}

function writeStderr(line: string): void {
  process.stderr.write(line);
}
