/**
 * The `mcp` section: Model Context Protocol servers whose tools the model may
 * call. An entry is a local server started over stdio (`command`, `args`,
 * `env`, `cwd`: the shape Claude Desktop and other MCP hosts use, so entries
 * can be pasted) or a remote one (`url`, `headers`) over Streamable HTTP, with
 * the older SSE transport as a fallback. Key names follow OpenClaw's `mcp.servers`.
 */

import * as v from 'valibot';
import { ConfigError, describeSource } from './config-error.js';
import type { ConfigSource } from './config-error.js';
import { isLoopbackHost } from './loopback.js';

/** A server's name becomes the prefix of its tools' names (`<server>__<tool>`), which providers limit to [A-Za-z0-9_-]. */
export const MCP_SERVER_NAME = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
/** `${NAME}` in an env or header value is replaced by that environment variable (OpenClaw's form). */
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export const MCP_DEFAULTS = {
  /** One tool call may take this long before it ends with an error result, ms. */
  timeoutMs: 60_000,
  /** Starting a server (spawn or connect, then initialize and list tools) may take this long, ms. */
  connectionTimeoutMs: 30_000,
  /** Text a tool result keeps; the rest is dropped with a note, as for exec, bytes. */
  maxOutputBytes: 64 * 1024,
} as const;

function integer(min: number, max: number, unit: string) {
  const range = `expected an integer from ${min} to ${max}${unit}`;
  return v.pipe(v.number(range), v.integer(range), v.minValue(min, range), v.maxValue(max, range));
}

const nonBlank = (what: string) =>
  v.pipe(
    v.string(`expected ${what}`),
    v.check((value) => value.trim().length > 0, `must not be empty (expected ${what})`),
  );

const stringMap = (what: string) =>
  v.pipe(
    v.custom<unknown>((value) => !Array.isArray(value), `expected an object of ${what}`),
    v.record(v.pipe(v.string(), v.regex(/^[^\s=]+$/, 'expected a name without spaces or "="')), v.string(`expected a string value`), `expected an object of ${what}`),
  );

/** https anywhere; plain http only to this machine, where nothing on the path can read the headers. */
const serverUrlSchema = v.pipe(
  v.string('expected a URL'),
  v.url('expected an https URL'),
  v.check((value) => {
    if (!URL.canParse(value)) return true; // v.url already said so
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  }, 'expected an https URL (plain http only for loopback hosts such as 127.0.0.1)'),
);

const globList = v.array(nonBlank('a tool name or * pattern'), 'expected an array of tool names or * patterns');

const serverSchema = v.pipe(
  v.custom<unknown>((value) => !Array.isArray(value), 'expected an object, not an array'),
  v.strictObject(
    {
      command: v.optional(nonBlank('a command')),
      args: v.optional(v.array(v.string('expected a string'), 'expected an array of strings')),
      env: v.optional(stringMap('environment variables')),
      cwd: v.optional(nonBlank('a directory path')),
      url: v.optional(serverUrlSchema),
      headers: v.optional(stringMap('HTTP headers')),
      transport: v.optional(v.picklist(['streamable-http', 'sse'], 'expected streamable-http or sse')),
      /** Claude Code's and OpenClaw's CLI spelling of the transport. */
      type: v.optional(v.picklist(['stdio', 'http', 'streamable-http', 'sse'], 'expected stdio, http, streamable-http or sse')),
      enabled: v.optional(v.boolean('expected true or false')),
      toolFilter: v.optional(v.strictObject({ include: v.optional(globList), exclude: v.optional(globList) }, 'expected an object')),
      timeoutMs: v.optional(integer(100, MAX_TIMEOUT_MS, ' (ms)')),
      /** OpenClaw's name for timeoutMs. */
      requestTimeoutMs: v.optional(integer(100, MAX_TIMEOUT_MS, ' (ms)')),
      connectionTimeoutMs: v.optional(integer(100, MAX_TIMEOUT_MS, ' (ms)')),
    },
    'expected an object',
  ),
);

/** The `mcp` section of the config file. */
export const mcpFileSchema = v.pipe(
  v.custom<unknown>((value) => !Array.isArray(value), 'expected an object, not an array'),
  v.strictObject(
    {
      servers: v.optional(
        v.pipe(
          v.custom<unknown>((value) => !Array.isArray(value), 'expected an object of named servers, not an array'),
          v.record(
            v.pipe(v.string(), v.regex(MCP_SERVER_NAME, 'server names are 1 to 32 letters, digits, "_" or "-"')),
            serverSchema,
            'expected an object of named servers',
          ),
        ),
      ),
      maxOutputBytes: v.optional(integer(1024, MAX_OUTPUT_BYTES, ' (bytes)')),
    },
    'expected an object',
  ),
);

export type McpFileConfig = v.InferOutput<typeof mcpFileSchema>;
type McpFileServer = v.InferOutput<typeof serverSchema>;

export interface McpToolFilter {
  /** Only tools matching one of these (exact names or `*` globs); empty: every tool. */
  readonly include: readonly string[];
  /** Tools matching one of these are hidden, even when included. */
  readonly exclude: readonly string[];
}

interface McpServerCommon {
  readonly enabled: boolean;
  readonly toolFilter: McpToolFilter;
  /** Per tool call, ms. */
  readonly timeoutMs: number;
  /** Spawn or connect, initialize and list tools, ms. */
  readonly connectionTimeoutMs: number;
}

/** A local server: a child process speaking MCP on stdin/stdout. */
export interface McpStdioServerConfig extends McpServerCommon {
  readonly transport: 'stdio';
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the allow-listed environment every child gets (see child-env.ts). */
  readonly env: Readonly<Record<string, string>>;
  /** Absolute; default the agent's workspace. */
  readonly cwd?: string;
}

/** A remote server over HTTP. */
export interface McpRemoteServerConfig extends McpServerCommon {
  readonly transport: 'streamable-http' | 'sse';
  /** Try the older SSE transport when Streamable HTTP is refused (only when no transport was chosen). */
  readonly sseFallback: boolean;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type McpServerConfig = McpStdioServerConfig | McpRemoteServerConfig;

export interface McpConfig {
  /** By name. */
  readonly servers: Readonly<Record<string, McpServerConfig>>;
  readonly maxOutputBytes: number;
}

export interface ResolveMcpContext {
  /** Where the layer holding a server came from, for error messages and relative `cwd`. */
  sourceOf(serverName: string): ConfigSource;
  /** Resolve a `cwd` against the layer it came from. */
  resolveCwd(path: string, source: ConfigSource): string;
  /** Values for `${NAME}` references. */
  env: Readonly<Record<string, string | undefined>>;
}

/** Merge the layers (a later layer replaces a whole server entry) and resolve every server. Throws ConfigError. */
export function resolveMcp(layers: readonly (McpFileConfig | undefined)[], context: ResolveMcpContext): McpConfig {
  const entries: Record<string, McpFileServer> = {};
  let maxOutputBytes: number = MCP_DEFAULTS.maxOutputBytes;
  for (const layer of layers) {
    if (layer === undefined) continue;
    Object.assign(entries, layer.servers ?? {});
    maxOutputBytes = layer.maxOutputBytes ?? maxOutputBytes;
  }
  const servers: Record<string, McpServerConfig> = {};
  for (const [name, entry] of Object.entries(entries)) servers[name] = resolveServer(name, entry, context);
  return { servers, maxOutputBytes };
}

function resolveServer(name: string, entry: McpFileServer, context: ResolveMcpContext): McpServerConfig {
  const source = context.sourceOf(name);
  const field = `mcp.servers.${name}`;
  const fail = (key: string, message: string): never => {
    throw new ConfigError(`invalid ${field}${key === '' ? '' : `.${key}`} ${describeSource(source)}: ${message}`, { field: key === '' ? field : `${field}.${key}`, source });
  };
  if (entry.timeoutMs !== undefined && entry.requestTimeoutMs !== undefined && entry.timeoutMs !== entry.requestTimeoutMs) {
    fail('timeoutMs', 'timeoutMs and requestTimeoutMs (its OpenClaw name) differ: set one');
  }
  const common: McpServerCommon = {
    enabled: entry.enabled ?? true,
    toolFilter: { include: entry.toolFilter?.include ?? [], exclude: entry.toolFilter?.exclude ?? [] },
    timeoutMs: entry.timeoutMs ?? entry.requestTimeoutMs ?? MCP_DEFAULTS.timeoutMs,
    connectionTimeoutMs: entry.connectionTimeoutMs ?? MCP_DEFAULTS.connectionTimeoutMs,
  };
  if (entry.command !== undefined && entry.url !== undefined) fail('', 'set either command (a local server) or url (a remote one), not both');
  const localKey = (['args', 'env', 'cwd'] as const).find((key) => entry[key] !== undefined);
  if (entry.command !== undefined) {
    if (entry.headers !== undefined) fail('headers', 'headers apply to remote servers (url), not to a command');
    if (entry.transport !== undefined) fail('transport', 'transport applies to remote servers (url); a command speaks stdio');
    if (entry.type !== undefined && entry.type !== 'stdio') fail('type', `a command speaks stdio, not ${entry.type}`);
    const server: McpStdioServerConfig = {
      ...common,
      transport: 'stdio',
      command: entry.command,
      args: [...(entry.args ?? [])],
      env: expandValues(entry.env ?? {}, context.env, (key, message) => fail(`env.${key}`, message)),
      ...(entry.cwd === undefined ? {} : { cwd: context.resolveCwd(entry.cwd, source) }),
    };
    return server;
  }
  if (entry.url === undefined) fail('', 'expected command (a local server started over stdio) or url (a remote server)');
  if (localKey !== undefined) fail(localKey, `${localKey} applies to local servers (command), not to a url`);
  if (entry.type === 'stdio') fail('type', 'stdio needs a command, not a url');
  const fromType = entry.type === undefined ? undefined : entry.type === 'sse' ? 'sse' : 'streamable-http';
  if (entry.transport !== undefined && fromType !== undefined && entry.transport !== fromType) {
    fail('transport', `transport ${entry.transport} and type ${entry.type} disagree: set one`);
  }
  const chosen = entry.transport ?? fromType;
  const server: McpRemoteServerConfig = {
    ...common,
    transport: chosen ?? 'streamable-http',
    sseFallback: chosen === undefined,
    url: entry.url as string,
    headers: expandValues(entry.headers ?? {}, context.env, (key, message) => fail(`headers.${key}`, message)),
  };
  return server;
}

/** Replace `${NAME}` references with environment values; a missing variable is an error naming the key. */
function expandValues(
  values: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>,
  fail: (key: string, message: string) => never,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    out[key] = value.replace(ENV_REFERENCE, (_match, name: string) => env[name] ?? fail(key, `environment variable ${name} is not set`));
  }
  return out;
}
