/**
 * Environment overrides. This is the only module in Pincer that reads
 * process.env; everything else receives plain values from the loaded config.
 */

import * as v from 'valibot';
import { ConfigError } from './config-error.js';
import type { FileConfig } from './schema.js';
import {
  hostSchema,
  logLevelSchema,
  logFormatSchema,
  modelSchema,
  portSchema,
  providerKindSchema,
  secretSchema,
  urlSchema,
} from './schema.js';

export type EnvSource = Readonly<Record<string, string | undefined>>;

/** What the environment contributes, already validated. */
export interface EnvOverrides {
  /** Values shaped like the config file; they win over the file. */
  config: FileConfig;
  /** PINCER_STATE_DIR. */
  stateDir?: string;
  /** The whole environment read, for `${NAME}` references in mcp.servers env and headers. */
  source: EnvSource;
  /** Third-party variables used only when nothing else sets the field. */
  fallbacks: {
    openaiApiKey?: string;
    openaiBaseUrl?: string;
    anthropicApiKey?: string;
  };
}

/** Names of the variables Pincer reads, for documentation and `--help`. */
export const ENV_VARS = [
  'PINCER_STATE_DIR',
  'PINCER_HOST',
  'PINCER_PORT',
  'PINCER_TOKEN',
  'PINCER_PASSWORD',
  'PINCER_LOG_LEVEL',
  'PINCER_LOG_FORMAT',
  'PINCER_PROVIDER',
  'PINCER_BASE_URL',
  'PINCER_API_KEY',
  'PINCER_MODEL',
] as const;

const SECRET_VARS = new Set(['PINCER_TOKEN', 'PINCER_PASSWORD', 'PINCER_API_KEY']);

/** Read and validate the PINCER_* variables (and the provider key fallbacks). Throws ConfigError. */
export function readEnvOverrides(env: EnvSource = process.env): EnvOverrides {
  const gateway: NonNullable<FileConfig['gateway']> = {};
  const auth: NonNullable<FileConfig['auth']> = {};
  const provider: NonNullable<FileConfig['provider']> = {};
  const config: FileConfig = {};

  const host = readVar(env, 'PINCER_HOST', 'gateway.host', hostSchema);
  if (host !== undefined) gateway.host = host;
  const port = readPort(env);
  if (port !== undefined) gateway.port = port;

  const token = readVar(env, 'PINCER_TOKEN', 'auth.token', secretSchema);
  if (token !== undefined) auth.token = token;
  const password = readVar(env, 'PINCER_PASSWORD', 'auth.password', secretSchema);
  if (password !== undefined) auth.password = password;

  const kind = readVar(env, 'PINCER_PROVIDER', 'provider.kind', providerKindSchema);
  if (kind !== undefined) provider.kind = kind;
  const baseUrl = readVar(env, 'PINCER_BASE_URL', 'provider.baseUrl', urlSchema);
  if (baseUrl !== undefined) provider.baseUrl = baseUrl;
  const apiKey = readVar(env, 'PINCER_API_KEY', 'provider.apiKey', secretSchema);
  if (apiKey !== undefined) provider.apiKey = apiKey;
  const model = readVar(env, 'PINCER_MODEL', 'provider.model', modelSchema);
  if (model !== undefined) provider.model = model;

  const logLevel = readVar(env, 'PINCER_LOG_LEVEL', 'logLevel', logLevelSchema);
  if (logLevel !== undefined) config.logLevel = logLevel;
  const logFormat = readVar(env, 'PINCER_LOG_FORMAT', 'logFormat', logFormatSchema);
  if (logFormat !== undefined) config.logFormat = logFormat;

  if (Object.keys(gateway).length > 0) config.gateway = gateway;
  if (Object.keys(auth).length > 0) config.auth = auth;
  if (Object.keys(provider).length > 0) config.provider = provider;

  const stateDir = env.PINCER_STATE_DIR;
  if (stateDir !== undefined && stateDir.trim() === '') {
    throw new ConfigError('invalid PINCER_STATE_DIR (environment variable): must not be empty', {
      field: 'stateDir',
      source: { kind: 'env', name: 'PINCER_STATE_DIR' },
    });
  }

  return {
    config,
    stateDir,
    source: env,
    fallbacks: {
      openaiApiKey: nonEmpty(env.OPENAI_API_KEY),
      openaiBaseUrl: nonEmpty(env.OPENAI_BASE_URL),
      anthropicApiKey: nonEmpty(env.ANTHROPIC_API_KEY),
    },
  };
}

function readVar<T>(
  env: EnvSource,
  name: string,
  field: string,
  schema: v.GenericSchema<unknown, T>,
): T | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const result = v.safeParse(schema, raw);
  if (result.success) return result.output;
  throw envError(name, field, result.issues[0].message, raw);
}

function readPort(env: EnvSource): number | undefined {
  const raw = env.PINCER_PORT;
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  const result = v.safeParse(portSchema, /^\d{1,6}$/.test(trimmed) ? Number(trimmed) : raw);
  if (result.success) return result.output;
  throw envError('PINCER_PORT', 'gateway.port', result.issues[0].message, raw);
}

function envError(name: string, field: string, problem: string, raw: string): ConfigError {
  const got = SECRET_VARS.has(name) ? '' : `, got ${JSON.stringify(raw)}`;
  return new ConfigError(`invalid ${name} (environment variable, sets ${field}): ${problem}${got}`, {
    field,
    source: { kind: 'env', name },
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
