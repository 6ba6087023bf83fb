/**
 * The config file schema (every key optional, unknown keys rejected) and the
 * shape of the resolved config that the rest of Pincer receives.
 */

import { isIP } from 'node:net';
import * as v from 'valibot';
import { agentsFileSchema } from './agents-config.js';
import type { AgentsConfig } from './agents-config.js';
import { controlUiSchema, type ControlUiConfig } from './control-ui-config.js';
import { mcpFileSchema } from './mcp-config.js';
import type { McpConfig } from './mcp-config.js';
import { channelsFileSchema, sessionFileSchema } from './telegram-config.js';
import type { ChannelsConfig, SessionConfig } from './telegram-config.js';

/** Same names as the logger's levels (config/ imports nothing from the rest of src/). */
export const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

export const PROVIDER_KINDS = ['openai', 'anthropic'] as const;

/** `tools.exec.sandbox`: bwrap when it works (auto), bwrap or refuse to start (bwrap), or no sandbox (none). */
export const EXEC_SANDBOX_MODES = ['auto', 'bwrap', 'none'] as const;
export type ExecSandboxMode = (typeof EXEC_SANDBOX_MODES)[number];
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

const MAX_PORT = 65_535;
const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;
const MAX_BYTES = 1024 * 1024 * 1024;
/** Largest output cap a tool may be given; the agent loop refuses bigger results anyway. */
const MAX_TOOL_OUTPUT_BYTES = 64 * 1024 * 1024;

/** A JSON object section. valibot's object schemas also accept arrays, so those are refused here. */
function section<const E extends v.ObjectEntries>(entries: E) {
  return v.pipe(
    v.custom<unknown>((value) => !Array.isArray(value), 'expected an object, not an array'),
    v.strictObject(entries, 'expected an object'),
  );
}

function integer(min: number, max: number, unit = '') {
  const range = `expected an integer from ${min} to ${max}${unit}`;
  return v.pipe(v.number(range), v.integer(range), v.minValue(min, range), v.maxValue(max, range));
}

const nonBlank = (what: string) =>
  v.pipe(
    v.string(`expected ${what}`),
    v.check((value) => value.trim().length > 0, `must not be empty (expected ${what})`),
  );

/** A shared secret: empty or blank is a config error, never "accept anyone". */
export const secretSchema = nonBlank('a non-empty string');

export const hostSchema = v.pipe(
  nonBlank('a host name or IP address'),
  v.regex(/^[^\s/]+$/, 'expected a host name or IP address without spaces or slashes'),
);

export const portSchema = integer(0, MAX_PORT);

export const modelSchema = nonBlank('a model name');

export const logLevelSchema = v.picklist(LOG_LEVEL_NAMES, `expected one of ${LOG_LEVEL_NAMES.join(', ')}`);

/** `auto`: human-readable lines when stderr is a terminal, JSON lines otherwise. */
export const LOG_FORMAT_NAMES = ['auto', 'pretty', 'json'] as const;
export type LogFormatName = (typeof LOG_FORMAT_NAMES)[number];
export const logFormatSchema = v.picklist(LOG_FORMAT_NAMES, `expected one of ${LOG_FORMAT_NAMES.join(', ')}`);

export const providerKindSchema = v.picklist(PROVIDER_KINDS, `expected one of ${PROVIDER_KINDS.join(', ')}`);

export const urlSchema = v.pipe(
  v.string('expected a URL'),
  v.url('expected an http(s) URL'),
  v.regex(/^https?:\/\//i, 'expected an http(s) URL'),
);

/** An exact origin, or `*` (every origin but `null`; only ever explicit, and `pincer doctor` flags it). */
const originSchema = v.pipe(
  v.string('expected an origin such as https://example.com'),
  v.regex(/^(\*|https?:\/\/[^/\s?#]+)$/i, 'expected an origin such as https://example.com (scheme and host, no path) or *'),
);

/** A duration such as `30m`, `1h`, `45s` (a bare number is minutes); `0m` means off. */
export const durationSchema = v.pipe(
  v.string('expected a duration such as 30m, 1h or 45s'),
  v.regex(/^\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)?$/i, 'expected a duration such as 30m, 1h or 45s'),
);

/** An IANA time zone name the runtime knows, e.g. Europe/Vienna. */
export const timeZoneSchema = v.pipe(
  v.string('expected an IANA time zone such as Europe/Vienna'),
  v.check(isKnownTimeZone, 'expected an IANA time zone such as Europe/Vienna'),
);

/** True when Intl accepts `zone` as a time zone. */
export function isKnownTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const clockTime = (allowEndOfDay: boolean) =>
  v.pipe(
    v.string('expected a time HH:MM'),
    v.regex(allowEndOfDay ? /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/ : /^(?:[01]\d|2[0-3]):[0-5]\d$/, `expected a time HH:MM${allowEndOfDay ? ' (24:00 allowed)' : ''}`),
  );

/** `agent.heartbeat`: periodic agent turns on the main session (OpenClaw's heartbeat). */
const identitySchema = section({
  name: v.optional(v.pipe(v.string('expected a name'), v.trim(), v.minLength(1, 'expected a non-empty name'), v.maxLength(200, 'expected at most 200 characters'))),
  emoji: v.optional(v.pipe(v.string('expected an emoji'), v.maxLength(32, 'expected at most 32 characters'))),
  avatar: v.optional(v.pipe(v.string('expected a URL'), v.regex(/^(https?:\/\/|data:image\/)/i, 'expected an http(s) or data:image URL'))),
});

const heartbeatSchema = section({
  every: v.optional(durationSchema),
  prompt: v.optional(nonBlank('a prompt')),
  activeHours: v.optional(
    section({
      start: clockTime(false),
      end: clockTime(true),
      timezone: v.optional(timeZoneSchema),
    }),
  ),
});


/** A proxy address (`10.0.0.2`, `::1`) or network (`10.0.0.0/8`, `fd00::/8`) whose X-Forwarded-For is believed. */
const trustedProxySchema = v.pipe(
  v.string('expected an IP address or CIDR network'),
  v.regex(/^[0-9a-fA-F.:]+(\/\d{1,3})?$/, 'expected an IP address or CIDR network such as 10.0.0.0/8'),
  v.check((value) => isIpOrCidr(value), 'expected an IP address or CIDR network such as 10.0.0.0/8'),
);

function isIpOrCidr(value: string): boolean {
  const [ip = '', prefix] = value.split('/');
  const family = isIP(ip);
  if (family === 0) return false;
  return prefix === undefined || Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Most models in provider.fallbacks. */
const MAX_FALLBACKS = 10;

/** Most models in provider.models. */
const MAX_EXTRA_MODELS = 32;

/** One further model tried when the one before it fails (provider.fallbacks[i]). */
const fallbackSchema = section({
  kind: providerKindSchema,
  model: modelSchema,
  baseUrl: v.optional(urlSchema),
  apiKey: v.optional(secretSchema),
});

const usdPerMillion = v.pipe(
  v.number('expected USD per million tokens'),
  v.finite('expected USD per million tokens'),
  v.minValue(0, 'expected USD per million tokens, 0 or more'),
);

/** A model's price (provider.cost["<model>"]), USD per million tokens; cache prices default to the input price. */
const priceSchema = section({
  input: usdPerMillion,
  output: usdPerMillion,
  cacheRead: v.optional(usdPerMillion),
  cacheWrite: v.optional(usdPerMillion),
});

/** `{ "enabled": bool }`, plus the tool's own options. */
function toolSection<const E extends v.ObjectEntries>(entries: E) {
  return v.optional(section({ enabled: v.optional(v.boolean('expected true or false')), ...entries }));
}

/** The `tools` section: one sub-section per built-in tool (config keys are camelCase tool names). */
const toolsSchema = section({
  maxIterations: v.optional(integer(1, 1000, ' (model calls per run)')),
  readFile: toolSection({}),
  writeFile: toolSection({}),
  editFile: toolSection({}),
  listDir: toolSection({}),
  cron: toolSection({}),
  exec: toolSection({
    timeoutMs: v.optional(integer(100, MAX_TIMEOUT_MS, ' (ms)')),
    maxOutputBytes: v.optional(integer(1024, MAX_TOOL_OUTPUT_BYTES, ' (bytes)')),
    sandbox: v.optional(v.picklist(EXEC_SANDBOX_MODES, `expected one of ${EXEC_SANDBOX_MODES.join(', ')}`)),
    network: v.optional(v.boolean('expected true or false')),
    env: v.optional(
      v.array(
        v.pipe(v.string('expected a variable name'), v.regex(/^[A-Za-z_][A-Za-z0-9_]*\*?$/, 'expected a variable name such as GIT_AUTHOR_NAME, or a prefix such as GIT_*')),
        'expected an array of variable names',
      ),
    ),
  }),
  webFetch: toolSection({
    allowPrivateNetwork: v.optional(v.boolean('expected true or false')),
    timeoutMs: v.optional(integer(100, MAX_TIMEOUT_MS, ' (ms)')),
    maxBytes: v.optional(integer(1024, MAX_TOOL_OUTPUT_BYTES, ' (bytes)')),
  }),
});

/** The config file. Every key is optional; defaults fill the rest. */
export const fileConfigSchema = section({
  gateway: v.optional(
    section({
      host: v.optional(hostSchema),
      port: v.optional(portSchema),
      websocket: v.optional(v.boolean('expected true or false')),
      allowedOrigins: v.optional(v.array(originSchema, 'expected an array of origins')),
      allowedHosts: v.optional(v.array(hostSchema, 'expected an array of host names')),
      handshakeTimeoutMs: v.optional(integer(10, MAX_TIMEOUT_MS, ' (ms)')),
      maxPayloadBytes: v.optional(integer(1024, MAX_BYTES, ' (bytes)')),
      maxBufferedBytes: v.optional(integer(1024, MAX_BYTES, ' (bytes)')),
      tickIntervalMs: v.optional(integer(10, MAX_TIMEOUT_MS, ' (ms)')),
      drainTimeoutMs: v.optional(integer(0, MAX_TIMEOUT_MS, ' (ms)')),
      maxRequestsPerSecond: v.optional(integer(1, 1_000_000, ' (requests per second)')),
      trustedProxies: v.optional(v.array(trustedProxySchema, 'expected an array of IP addresses or CIDR networks')),
      maxConnections: v.optional(integer(1, 1_000_000, ' (connections)')),
      controlUi: v.optional(controlUiSchema),
    }),
  ),
  auth: v.optional(
    section({
      token: v.optional(secretSchema),
      password: v.optional(secretSchema),
    }),
  ),
  provider: v.optional(
    section({
      kind: v.optional(providerKindSchema),
      baseUrl: v.optional(urlSchema),
      apiKey: v.optional(secretSchema),
      model: v.optional(modelSchema),
      timeoutMs: v.optional(integer(1, MAX_TIMEOUT_MS, ' (ms)')),
      maxRetries: v.optional(integer(0, 10)),
      fallbacks: v.optional(v.pipe(v.array(fallbackSchema, 'expected an array of models'), v.maxLength(MAX_FALLBACKS, `expected at most ${MAX_FALLBACKS} fallbacks`))),
      models: v.optional(v.pipe(v.array(fallbackSchema, 'expected an array of models'), v.maxLength(MAX_EXTRA_MODELS, `expected at most ${MAX_EXTRA_MODELS} models`))),
      cost: v.optional(
        v.pipe(
          v.custom<unknown>((value) => !Array.isArray(value), 'expected an object keyed by model id'),
          v.record(modelSchema, priceSchema, 'expected an object keyed by model id'),
        ),
      ),
    }),
  ),
  agent: v.optional(
    section({
      systemPrompt: v.optional(v.string('expected a string')),
      maxConcurrentRuns: v.optional(integer(1, 1000)),
      maxMessageChars: v.optional(integer(1, 100_000_000)),
      historyLimit: v.optional(integer(1, 1_000_000)),
      workspaceDir: v.optional(nonBlank('a directory path')),
      heartbeat: v.optional(heartbeatSchema),
      identity: v.optional(identitySchema),
    }),
  ),
  cron: v.optional(
    section({
      enabled: v.optional(v.boolean('expected true or false')),
      skipMissedJobs: v.optional(v.boolean('expected true or false')),
    }),
  ),
  openaiHttp: v.optional(
    section({
      enabled: v.optional(v.boolean('expected true or false')),
    }),
  ),
  agents: v.optional(agentsFileSchema),
  tools: v.optional(toolsSchema),
  mcp: v.optional(mcpFileSchema),
  channels: v.optional(channelsFileSchema),
  session: v.optional(sessionFileSchema),
  logLevel: v.optional(logLevelSchema),
  logFormat: v.optional(logFormatSchema),
});

/** What a config file (or a programmatic override) may contain. */
export type FileConfig = v.InferOutput<typeof fileConfigSchema>;

export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  /** Serve the OpenClaw WebSocket on the HTTP port. */
  readonly websocket: boolean;
  readonly allowedOrigins: readonly string[];
  readonly allowedHosts: readonly string[];
  readonly handshakeTimeoutMs: number;
  readonly maxPayloadBytes: number;
  readonly maxBufferedBytes: number;
  readonly tickIntervalMs: number;
  readonly drainTimeoutMs: number;
  /** Per-connection request rate a client may exceed for at most a few seconds before it is closed. */
  readonly maxRequestsPerSecond: number;
  /** Reverse proxies (IPs or CIDR networks) whose X-Forwarded-For names the client. */
  readonly trustedProxies: readonly string[];
  /** Open TCP connections (HTTP and WebSocket together); more are closed at once. */
  readonly maxConnections: number;
  /** A Control UI build served under a base path (gateway.controlUi). */
  readonly controlUi: ControlUiConfig;
}

export interface AuthConfig {
  readonly token?: string;
  readonly password?: string;
}

/** Where one model is served: the primary model or a fallback. */
export interface ModelEndpointConfig {
  readonly kind: ProviderKind;
  readonly model: string;
  readonly baseUrl?: string;
  readonly apiKey?: string;
}

export interface ProviderConfig extends ModelEndpointConfig {
  readonly timeoutMs: number;
  readonly maxRetries: number;
  /** Further models, tried in order when the one before fails with a retryable error (default none). */
  readonly fallbacks: readonly ModelEndpointConfig[];
  /** Further configured models that only agents and sessions.patch choose; the default chain never tries them (default none). */
  readonly models?: readonly ModelEndpointConfig[];
  /** Prices by model id, USD per million tokens, over the built-in estimates (default none). */
  readonly cost: Readonly<Record<string, ModelPriceConfig>>;
}

export interface ModelPriceConfig {
  readonly input: number;
  readonly output: number;
  readonly cacheRead?: number;
  readonly cacheWrite?: number;
}

export interface AgentConfig {
  readonly systemPrompt?: string;
  readonly maxConcurrentRuns: number;
  readonly maxMessageChars: number;
  readonly historyLimit: number;
  /** Absolute path; default `<stateDir>/workspace`. Holds AGENTS.md and is where the tools work. */
  readonly workspaceDir: string;
  readonly heartbeat: HeartbeatConfig;
  /** Overrides the workspace's IDENTITY.md (default: none, so "Assistant"). */
  readonly identity?: IdentityConfig;
}

/** The assistant's name and avatar as clients show them (`agent.identity`, OpenClaw's key). */
export interface IdentityConfig {
  readonly name?: string;
  readonly emoji?: string;
  /** An http(s) or data:image URL. */
  readonly avatar?: string;
}

export interface HeartbeatConfig {
  /** Period of heartbeat turns, ms; 0 (the default) turns heartbeats off. */
  readonly everyMs: number;
  /** Replaces the built-in heartbeat prompt. */
  readonly prompt?: string;
  /** Local-time window (start inclusive, end exclusive, HH:MM) outside which heartbeats are skipped. */
  readonly activeHours?: { readonly start: string; readonly end: string; readonly timezone?: string };
}

export interface CronConfig {
  /** Run scheduled jobs (default true); false keeps jobs stored but never fires them. */
  readonly enabled: boolean;
  /** Skip recurring slots missed while the gateway was down instead of running them once (default false). */
  readonly skipMissedJobs: boolean;
}

export interface ToolToggle {
  readonly enabled: boolean;
}

export interface ToolsConfig {
  /** Model calls per run before the run is stopped (default 20). */
  readonly maxIterations: number;
  readonly readFile: ToolToggle;
  readonly writeFile: ToolToggle;
  readonly editFile: ToolToggle;
  readonly listDir: ToolToggle;
  /** Lets the model add, list, run and remove scheduled jobs (reminders). */
  readonly cron: ToolToggle;
  /** Shell commands in the workspace. Off by default. */
  readonly exec: ToolToggle & {
    readonly timeoutMs: number;
    readonly maxOutputBytes: number;
    readonly sandbox: ExecSandboxMode;
    /** A sandboxed command may use the network. */
    readonly network: boolean;
    /** Variables passed on besides PATH, HOME, LANG, LC_*, TERM, TZ, USER, SHELL, TMPDIR (`NAME*` = prefix). */
    readonly env: readonly string[];
  };
  /** HTTP(S) GET. Private, loopback and link-local addresses are refused unless allowPrivateNetwork. */
  readonly webFetch: ToolToggle & { readonly allowPrivateNetwork: boolean; readonly timeoutMs: number; readonly maxBytes: number };
}

/** The validated, merged and frozen config. */
export interface PincerConfig {
  /** Absolute path of the state directory. */
  readonly stateDir: string;
  /** Absolute path of the config file (it may not exist). */
  readonly configPath: string;
  readonly gateway: GatewayConfig;
  readonly auth: AuthConfig;
  /** Absent when no provider kind is configured. */
  readonly provider?: ProviderConfig;
  readonly agent: AgentConfig;
  /** Every agent (`main` first, the default); agents.list in the file. */
  readonly agents: AgentsConfig;
  readonly openaiHttp: { readonly enabled: boolean };
  readonly cron: CronConfig;
  readonly tools: ToolsConfig;
  /** MCP servers whose tools the model may call (none by default). */
  readonly mcp: McpConfig;
  /** Messaging channels (Telegram); each is off unless enabled. */
  readonly channels: ChannelsConfig;
  readonly session: SessionConfig;
  readonly logLevel: LogLevelName;
  readonly logFormat: LogFormatName;
}
