/**
 * Load the config once at start-up: defaults < config file < environment <
 * programmatic overrides < command-line flags. Every layer is validated on
 * its own so an error names the field and where it came from. The result is
 * deeply frozen.
 */

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as v from 'valibot';
import type { ConfigSource } from './config-error.js';
import { ConfigError, describeSource } from './config-error.js';
import { resolveControlUi } from './control-ui-config.js';
import { CONFIG_FILE_NAME, DEFAULT_STATE_DIR_NAME, DEFAULTS, WORKSPACE_DIR_NAME } from './defaults.js';
import type { EnvSource } from './env.js';
import { readEnvOverrides } from './env.js';
import { parseDurationMs } from './duration.js';
import { describeUnsafeWorkspace } from './workspace-placement.js';
import type { FileConfig, HeartbeatConfig, LogFormatName, LogLevelName, ModelEndpointConfig, PincerConfig, ProviderConfig, ProviderKind, ToolsConfig } from './schema.js';
import { resolveMcp } from './mcp-config.js';
import { resolveAgents } from './agents-config.js';
import { resolveChannels, resolveSession } from './telegram-config.js';
import { fileConfigSchema, hostSchema, logFormatSchema, logLevelSchema, portSchema, secretSchema, urlSchema } from './schema.js';

/** Values given on the command line (or by an embedding program); undefined means "not given". */
export interface ConfigFlags {
  host?: string;
  port?: number;
  token?: string;
  password?: string;
  websocket?: boolean;
  logLevel?: LogLevelName;
  logFormat?: LogFormatName;
  stateDir?: string;
  /** --config PATH: when given, the file must exist. */
  configPath?: string;
}

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  /** Config-file-shaped values that win over the file and env (used by tests and embedders). */
  overrides?: FileConfig;
  /** Environment to read. Default: process.env. */
  env?: EnvSource;
  /** Default: os.homedir(). */
  homeDir?: string;
  /** Base for relative paths given by flags or env. Default: process.cwd(). */
  cwd?: string;
  /**
   * Load a workspace that overlaps the state directory instead of throwing
   * (`pincer doctor` does, to report it). Default false.
   */
  allowUnsafeWorkspace?: boolean;
  /**
   * The config file's parsed content, used instead of reading the file (the
   * config writer checks a candidate with exactly the start-up rules).
   * Errors still name the file as the source.
   */
  fileContent?: unknown;
}

interface Layer {
  config: FileConfig;
  sourceOf(field: string): ConfigSource;
}

/** Flag names per field, so errors name the flag the user typed. */
const FLAG_NAMES: Record<string, string> = {
  'gateway.host': '--host',
  'gateway.port': '--port',
  'gateway.websocket': '--no-websocket',
  'auth.token': '--token',
  'auth.password': '--password',
  logLevel: '--log-level',
  logFormat: '--log-format',
};

/** Load, merge, validate and freeze the config. Throws ConfigError (exit code 78) on any problem. */
export function loadConfig(options: LoadConfigOptions = {}): PincerConfig {
  const flags = options.flags ?? {};
  const cwd = options.cwd ?? process.cwd();
  const home = options.homeDir ?? homedir();
  const env = readEnvOverrides(options.env);

  const stateDir = resolvePath(flags.stateDir ?? env.stateDir ?? join(home, DEFAULT_STATE_DIR_NAME), cwd, home);
  const explicitConfig = flags.configPath !== undefined;
  const configPath = explicitConfig ? resolvePath(flags.configPath ?? '', cwd, home) : join(stateDir, CONFIG_FILE_NAME);

  const fileSource: ConfigSource = { kind: 'file', path: configPath };
  const layers: Layer[] = [
    {
      config: options.fileContent === undefined ? readConfigFile(configPath, explicitConfig) : validateFileConfig(options.fileContent, fileSource),
      sourceOf: () => fileSource,
    },
    { config: env.config, sourceOf: (field) => ({ kind: 'env', name: envNameOf(field) }) },
  ];
  if (options.overrides !== undefined) {
    layers.push({ config: validateFileConfig(options.overrides, { kind: 'options' }), sourceOf: () => ({ kind: 'options' }) });
  }
  layers.push({
    config: validateFlags(flags),
    sourceOf: (field) => ({ kind: 'flag', name: FLAG_NAMES[field] ?? field }),
  });

  const pick = <S extends keyof FileConfig>(section: S) => layers.map((layer) => layer.config[section]);
  const gateway = Object.assign({}, DEFAULTS.gateway, ...pick('gateway').map(defined)) as PincerConfig['gateway'];
  const auth = Object.assign({}, ...pick('auth').map(defined)) as PincerConfig['auth'];
  const agentLayers = pick('agent').map(defined);
  const agent = Object.assign({}, DEFAULTS.agent, ...agentLayers) as Omit<PincerConfig['agent'], 'workspaceDir' | 'heartbeat'> & {
    workspaceDir?: string;
  };
  const agentWorkspace = agent.workspaceDir;
  const openaiHttp = Object.assign({}, DEFAULTS.openaiHttp, ...pick('openaiHttp').map(defined)) as PincerConfig['openaiHttp'];
  const cron = Object.assign({}, DEFAULTS.cron, ...pick('cron').map(defined)) as PincerConfig['cron'];
  const logLevel = layers.reduce<LogLevelName>((level, layer) => layer.config.logLevel ?? level, DEFAULTS.logLevel);
  const logFormat = layers.reduce<LogFormatName>((format, layer) => layer.config.logFormat ?? format, DEFAULTS.logFormat);

  const sourceOf = (field: string): ConfigSource => {
    const [section, key] = field.split('.') as [keyof FileConfig, string | undefined];
    for (let i = layers.length - 1; i >= 0; i--) {
      const value: unknown = layers[i].config[section];
      const present = key === undefined ? value !== undefined : isRecord(value) && value[key] !== undefined;
      if (present) return layers[i].sourceOf(field);
    }
    return { kind: 'options' };
  };

  /** Like sourceOf, one level deeper (`gateway.controlUi.root`). */
  const sourceOfNested = (section: 'gateway', key: string, field: string): ConfigSource => {
    for (let i = layers.length - 1; i >= 0; i--) {
      const value: unknown = layers[i].config[section];
      const inner = isRecord(value) ? value[key] : undefined;
      if (isRecord(inner) && inner[field] !== undefined) return layers[i].sourceOf(`${section}.${key}.${field}`);
    }
    return { kind: 'options' };
  };

  if (auth.token !== undefined && auth.password !== undefined) {
    throw new ConfigError(
      `auth.token (${describeSource(sourceOf('auth.token'))}) and auth.password (${describeSource(sourceOf('auth.password'))}) are both set: choose one`,
      { field: 'auth.token', source: sourceOf('auth.token') },
    );
  }

  const workspaceDir =
    agentWorkspace === undefined ? join(stateDir, WORKSPACE_DIR_NAME) : resolveWorkspace(agentWorkspace, sourceOf('agent.workspaceDir'), cwd, home);
  const unsafe = options.allowUnsafeWorkspace === true ? undefined : describeUnsafeWorkspace(workspaceDir, stateDir);
  if (unsafe !== undefined) {
    const source = sourceOf('agent.workspaceDir');
    throw new ConfigError(
      `invalid agent.workspaceDir ${describeSource(source)}: ${workspaceDir} cannot be the workspace because ${unsafe}, ` +
        'which holds the gateway token, the config and the sessions; choose a directory outside it',
      { field: 'agent.workspaceDir', source },
    );
  }

  const provider = resolveProvider(pick('provider').map(defined), env.fallbacks, sourceOf, configPath);
  const agents = resolveAgents(mergeAgents(pick('agents')), {
    stateDir,
    mainWorkspaceDir: workspaceDir,
    modelRefs: configuredModelRefs(provider),
    source: sourceOf('agents'),
    resolvePath: (path) => resolveWorkspace(path, sourceOf('agents'), cwd, home),
    allowUnsafeWorkspace: options.allowUnsafeWorkspace,
  });

  const config: PincerConfig = {
    stateDir,
    configPath,
    gateway: {
      ...gateway,
      allowedOrigins: [...gateway.allowedOrigins],
      allowedHosts: [...gateway.allowedHosts],
      trustedProxies: [...gateway.trustedProxies],
      controlUi: resolveControlUi(
        pick('gateway').map((layer) => layer?.controlUi),
        (field) => sourceOfNested('gateway', 'controlUi', field),
        (path, source) => resolveWorkspace(path, source, cwd, home),
      ),
    },
    auth,
    provider,
    agent: { ...agent, workspaceDir, heartbeat: resolveHeartbeat(agentLayers.map((layer) => layer.heartbeat)) },
    agents,
    openaiHttp,
    cron,
    tools: resolveTools(pick('tools').map(defined)),
    mcp: resolveMcp(pick('mcp'), {
      sourceOf: (name) => mcpServerSource(layers, name),
      resolveCwd: (path, source) => resolveWorkspace(path, source, cwd, home),
      env: env.source,
    }),
    channels: resolveChannels(pick('channels'), { env: env.source, sourceOf, cwd }),
    session: resolveSession(pick('session')),
    logLevel,
    logFormat,
  };
  return deepFreeze(config);
}

/** Read the JSON config file. A missing default file is an empty config; a missing --config file is an error. */
function readConfigFile(path: string, mustExist: boolean): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' && !mustExist) return {};
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code ?? error);
    throw new ConfigError(`cannot read config file ${path}: ${reason}`, { source: { kind: 'file', path }, cause: error });
  }
  if (text.trim() === '') {
    // An empty file is most often a write that went wrong; starting on defaults would hide it.
    throw new ConfigError(`config file ${path} is empty: write {} for the defaults, or remove the file`, { source: { kind: 'file', path } });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`config file ${path} is not valid JSON: ${detail}`, { source: { kind: 'file', path }, cause: error });
  }
  return validateFileConfig(parsed, { kind: 'file', path });
}

function validateFileConfig(input: unknown, source: ConfigSource): FileConfig {
  if (!isRecord(input)) {
    throw new ConfigError(`config ${describeSource(source)} must be a JSON object`, { source });
  }
  const result = v.safeParse(fileConfigSchema, input, { abortEarly: false });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const field = v.getDotPath(issue) ?? '(root)';
  const more = result.issues.length > 1 ? ` (and ${result.issues.length - 1} more problem${result.issues.length > 2 ? 's' : ''})` : '';
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    throw new ConfigError(`unknown key ${field} ${describeSource(source)}${more}`, { field, source });
  }
  const got = isSecretField(field) || issue.received === undefined ? '' : `, got ${issue.received}`;
  throw new ConfigError(`invalid ${field} ${describeSource(source)}: ${issue.message}${got}${more}`, { field, source });
}

function validateFlags(flags: ConfigFlags): FileConfig {
  const check = <T>(value: T | undefined, field: string, schema: v.GenericSchema<unknown, T>): T | undefined => {
    if (value === undefined) return undefined;
    const result = v.safeParse(schema, value);
    if (result.success) return result.output;
    const name = FLAG_NAMES[field] ?? field;
    const got = isSecretField(field) ? '' : `, got ${JSON.stringify(value)}`;
    throw new ConfigError(`invalid ${name} (sets ${field}): ${result.issues[0].message}${got}`, {
      field,
      source: { kind: 'flag', name },
    });
  };
  for (const [name, value] of [['--state-dir', flags.stateDir], ['--config', flags.configPath]] as const) {
    if (value !== undefined && value.trim() === '') {
      throw new ConfigError(`invalid ${name}: must not be empty`, { source: { kind: 'flag', name } });
    }
  }
  return {
    gateway: defined({
      host: check(flags.host, 'gateway.host', hostSchema),
      port: check(flags.port, 'gateway.port', portSchema),
      websocket: flags.websocket,
    }),
    auth: defined({
      token: check(flags.token, 'auth.token', secretSchema),
      password: check(flags.password, 'auth.password', secretSchema),
    }),
    logLevel: check(flags.logLevel, 'logLevel', logLevelSchema),
    logFormat: check(flags.logFormat, 'logFormat', logFormatSchema),
  };
}

function resolveProvider(
  layers: NonNullable<FileConfig['provider']>[],
  fallbacks: ReturnType<typeof readEnvOverrides>['fallbacks'],
  sourceOf: (field: string) => ConfigSource,
  configPath: string,
): ProviderConfig | undefined {
  const merged = Object.assign({}, ...layers) as NonNullable<FileConfig['provider']>;
  if (Object.keys(merged).length === 0) return undefined;
  if (merged.kind === undefined) {
    const [field] = Object.keys(merged);
    throw new ConfigError(
      `provider.kind is required when provider.${field} is set (${describeSource(sourceOf(`provider.${field}`))}); set PINCER_PROVIDER or provider.kind in ${configPath}`,
      { field: 'provider.kind', source: sourceOf(`provider.${field}`) },
    );
  }
  if (merged.model === undefined) {
    throw new ConfigError(
      `provider.model is required when provider.kind is set (${describeSource(sourceOf('provider.kind'))}); set PINCER_MODEL or provider.model`,
      { field: 'provider.model', source: sourceOf('provider.kind') },
    );
  }
  let baseUrl = merged.baseUrl;
  if (baseUrl === undefined && merged.kind === 'openai' && fallbacks.openaiBaseUrl !== undefined) {
    const result = v.safeParse(urlSchema, fallbacks.openaiBaseUrl);
    if (!result.success) {
      throw new ConfigError(`invalid OPENAI_BASE_URL (environment variable, sets provider.baseUrl): ${result.issues[0].message}`, {
        field: 'provider.baseUrl',
        source: { kind: 'env', name: 'OPENAI_BASE_URL' },
      });
    }
    baseUrl = result.output;
  }
  const vendorKey = (kind: ProviderKind): string | undefined => (kind === 'openai' ? fallbacks.openaiApiKey : fallbacks.anthropicApiKey);
  const apiKey = merged.apiKey ?? vendorKey(merged.kind);
  const primary: ModelEndpointConfig = {
    kind: merged.kind,
    model: merged.model,
    ...(baseUrl === undefined ? {} : { baseUrl }),
    ...(apiKey === undefined ? {} : { apiKey }),
  };
  return {
    ...primary,
    timeoutMs: merged.timeoutMs ?? DEFAULTS.provider.timeoutMs,
    maxRetries: merged.maxRetries ?? DEFAULTS.provider.maxRetries,
    fallbacks: (merged.fallbacks ?? []).map((fallback) => resolveFallback(fallback, primary, vendorKey(fallback.kind))),
    ...(merged.models === undefined || merged.models.length === 0 ? {} : { models: merged.models.map((extra) => resolveFallback(extra, primary, vendorKey(extra.kind))) }),
    cost: { ...merged.cost },
  };
}

/**
 * A fallback on the primary's endpoint (same kind, no other baseUrl) uses the
 * primary's key unless it names its own; one elsewhere gets only its own key
 * or the vendor's environment key, never the primary's.
 */
function resolveFallback(
  fallback: ModelEndpointConfig,
  primary: ModelEndpointConfig,
  vendorKey: string | undefined,
): ModelEndpointConfig {
  const samePlace = fallback.kind === primary.kind && (fallback.baseUrl === undefined || fallback.baseUrl === primary.baseUrl);
  const baseUrl = fallback.baseUrl ?? (samePlace ? primary.baseUrl : undefined);
  const apiKey = fallback.apiKey ?? (samePlace ? primary.apiKey : vendorKey);
  return {
    kind: fallback.kind,
    model: fallback.model,
    ...(baseUrl === undefined ? {} : { baseUrl }),
    ...(apiKey === undefined ? {} : { apiKey }),
  };
}

/** The later layer's agents.list replaces an earlier one whole; agents.defaults merges key by key. */
function mergeAgents(layers: (FileConfig['agents'] | undefined)[]): FileConfig['agents'] {
  let list: NonNullable<FileConfig['agents']>['list'];
  let defaults: NonNullable<FileConfig['agents']>['defaults'];
  for (const layer of layers) {
    if (layer?.list !== undefined) list = layer.list;
    if (layer?.defaults !== undefined) defaults = { ...defaults, ...defined(layer.defaults) };
  }
  return { ...(list === undefined ? {} : { list }), ...(defaults === undefined ? {} : { defaults }) };
}

/** `kind/model` of every configured model: the chain, then provider.models. */
export function configuredModelRefs(provider: ProviderConfig | undefined): string[] {
  if (provider === undefined) return [];
  return [...new Set([provider, ...provider.fallbacks, ...(provider.models ?? [])].map((endpoint) => `${endpoint.kind}/${endpoint.model}`))];
}

/** Merge the tools layers key by key: each tool's sub-section merges over its defaults. */
function resolveTools(layers: NonNullable<FileConfig['tools']>[]): ToolsConfig {
  const d = DEFAULTS.tools;
  const merge = <K extends Exclude<keyof ToolsConfig, 'maxIterations'>>(key: K): ToolsConfig[K] =>
    Object.assign({}, d[key], ...layers.map((layer) => defined(layer[key]))) as ToolsConfig[K];
  return {
    maxIterations: layers.reduce<number>((value, layer) => layer.maxIterations ?? value, d.maxIterations),
    readFile: merge('readFile'),
    writeFile: merge('writeFile'),
    editFile: merge('editFile'),
    listDir: merge('listDir'),
    cron: merge('cron'),
    exec: merge('exec'),
    webFetch: merge('webFetch'),
  };
}

/** Merge the agent.heartbeat layers key by key; `every` becomes everyMs (0 = off). */
function resolveHeartbeat(layers: (NonNullable<NonNullable<FileConfig['agent']>['heartbeat']> | undefined)[]): HeartbeatConfig {
  const merged = Object.assign({}, ...layers.map(defined)) as NonNullable<NonNullable<FileConfig['agent']>['heartbeat']>;
  const everyMs = merged.every === undefined ? DEFAULTS.agent.heartbeat.everyMs : (parseDurationMs(merged.every) ?? 0);
  return {
    everyMs,
    ...(merged.prompt === undefined ? {} : { prompt: merged.prompt }),
    ...(merged.activeHours === undefined ? {} : { activeHours: { ...merged.activeHours } }),
  };
}

/** The last layer that defines server `name` (it replaces the server's entry from earlier layers). */
function mcpServerSource(layers: readonly Layer[], name: string): ConfigSource {
  for (let i = layers.length - 1; i >= 0; i--) {
    const servers = layers[i].config.mcp?.servers;
    if (servers !== undefined && Object.hasOwn(servers, name)) return layers[i].sourceOf(`mcp.servers.${name}`);
  }
  return { kind: 'options' };
}

/** Relative workspace paths in the file are relative to the file; elsewhere to the working directory. */
function resolveWorkspace(path: string, source: ConfigSource, cwd: string, home: string): string {
  const base = source.kind === 'file' ? dirname(source.path) : cwd;
  return resolvePath(path, base, home);
}

function resolvePath(path: string, base: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(base, path);
}

function envNameOf(field: string): string {
  const names: Record<string, string> = {
    'gateway.host': 'PINCER_HOST',
    'gateway.port': 'PINCER_PORT',
    'auth.token': 'PINCER_TOKEN',
    'auth.password': 'PINCER_PASSWORD',
    'provider.kind': 'PINCER_PROVIDER',
    'provider.baseUrl': 'PINCER_BASE_URL',
    'provider.apiKey': 'PINCER_API_KEY',
    'provider.model': 'PINCER_MODEL',
    logLevel: 'PINCER_LOG_LEVEL',
    logFormat: 'PINCER_LOG_FORMAT',
  };
  return names[field] ?? field;
}

function isSecretField(field: string): boolean {
  return /token|password|apiKey/i.test(field);
}

/** Drop keys whose value is undefined, so a later layer never erases an earlier one. */
function defined<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined)) as Partial<T>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorCode(error: unknown): string | undefined {
  return isRecord(error) && typeof error.code === 'string' ? error.code : undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
