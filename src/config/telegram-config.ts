/**
 * The `channels.telegram` section (OpenClaw's key names) and `session.dmScope`.
 * The bot token comes from `botToken`, else `tokenFile` (a regular file, not a
 * symlink), else TELEGRAM_BOT_TOKEN; it is resolved here so the channel gets
 * one validated, frozen slice.
 */

import { lstatSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import * as v from 'valibot';
import { ConfigError, describeSource } from './config-error.js';
import type { ConfigSource } from './config-error.js';
import { isLoopbackHost } from './loopback.js';

export const DM_POLICIES = ['pairing', 'allowlist', 'open', 'disabled'] as const;
export const GROUP_POLICIES = ['open', 'allowlist', 'disabled'] as const;
export const STREAMING_MODES = ['partial', 'off'] as const;
export const DM_SCOPES = ['main', 'per-peer', 'per-channel-peer', 'per-account-channel-peer'] as const;
export type DmPolicy = (typeof DM_POLICIES)[number];
export type GroupPolicy = (typeof GROUP_POLICIES)[number];
export type DmScope = (typeof DM_SCOPES)[number];

export const TELEGRAM_DEFAULTS = {
  apiRoot: 'https://api.telegram.org',
  dmPolicy: 'pairing' as DmPolicy,
  groupPolicy: 'allowlist' as GroupPolicy,
  streaming: 'partial' as (typeof STREAMING_MODES)[number],
  /** Telegram allows 4096 characters per message; the rest is headroom for HTML tags, chars. */
  textChunkLimit: 4000,
  /** Largest photo downloaded for the model, MB. */
  mediaMaxMb: 5,
  webhookPath: '/telegram-webhook',
} as const;

/** Telegram's hard cap per message, chars. */
const TELEGRAM_MAX_MESSAGE_CHARS = 4096;

const bool = v.boolean('expected true or false');
const nonBlank = (what: string) => v.pipe(v.string(`expected ${what}`), v.check((value) => value.trim().length > 0, `must not be empty (expected ${what})`));

/** A numeric Telegram user id (`telegram:` / `tg:` prefixes accepted) or `*`. */
const senderIdSchema = v.pipe(
  v.union([v.string(), v.number()], 'expected a numeric Telegram user id'),
  v.transform((value) => normalizeSenderId(String(value))),
  v.check((value) => value === '*' || /^\d{1,20}$/.test(value), 'expected a numeric Telegram user id (or "*")'),
);
const senderList = v.array(senderIdSchema, 'expected an array of numeric Telegram user ids');
const groupPolicySchema = v.picklist(GROUP_POLICIES, `expected one of ${GROUP_POLICIES.join(', ')}`);

const groupSchema = v.strictObject(
  {
    enabled: v.optional(bool),
    requireMention: v.optional(bool),
    allowFrom: v.optional(senderList),
    groupPolicy: v.optional(groupPolicySchema),
  },
  'expected an object',
);

const telegramSchema = v.strictObject(
  {
    enabled: v.optional(bool),
    botToken: v.optional(nonBlank('a bot token from @BotFather')),
    tokenFile: v.optional(nonBlank('a file path')),
    dmPolicy: v.optional(v.picklist(DM_POLICIES, `expected one of ${DM_POLICIES.join(', ')}`)),
    allowFrom: v.optional(senderList),
    groupPolicy: v.optional(groupPolicySchema),
    groupAllowFrom: v.optional(senderList),
    groups: v.optional(
      v.pipe(
        v.custom<unknown>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'expected an object keyed by chat id'),
        v.record(v.pipe(v.string(), v.regex(/^(\*|-?\d{1,20})$/, 'expected a numeric chat id (or "*")')), groupSchema, 'expected an object keyed by chat id'),
      ),
    ),
    apiRoot: v.optional(
      v.pipe(
        v.string('expected a URL'),
        v.url('expected an http(s) URL'),
        v.check((value) => !URL.canParse(value) || isHttpsOrLoopback(new URL(value)), 'expected an https URL (plain http only for loopback hosts)'),
      ),
    ),
    streaming: v.optional(v.picklist(STREAMING_MODES, `expected one of ${STREAMING_MODES.join(', ')}`)),
    textChunkLimit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(TELEGRAM_MAX_MESSAGE_CHARS, `expected at most ${TELEGRAM_MAX_MESSAGE_CHARS} (Telegram's limit)`))),
    mediaMaxMb: v.optional(v.pipe(v.number('expected megabytes'), v.minValue(0.01, 'expected megabytes above 0'), v.maxValue(20, 'expected at most 20 (the Bot API download limit)'))),
    webhookUrl: v.optional(v.pipe(v.string('expected a URL'), v.url('expected an https URL'))),
    webhookSecret: v.optional(v.pipe(nonBlank('a secret'), v.regex(/^[A-Za-z0-9_-]{1,256}$/, 'expected 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram\'s rule)'))),
    webhookPath: v.optional(v.pipe(v.string(), v.regex(/^\/[A-Za-z0-9/_.-]*$/, 'expected a path starting with /'))),
  },
  'expected an object',
);

/** `channels`: one sub-section per messaging channel. */
export const channelsFileSchema = v.strictObject({ telegram: v.optional(telegramSchema) }, 'expected an object');
/** `session`: how inbound messages map to sessions. */
export const sessionFileSchema = v.strictObject(
  { dmScope: v.optional(v.picklist(DM_SCOPES, `expected one of ${DM_SCOPES.join(', ')}`)) },
  'expected an object',
);

type TelegramFile = v.InferOutput<typeof telegramSchema>;
export type ChannelsFile = v.InferOutput<typeof channelsFileSchema>;
export type SessionFile = v.InferOutput<typeof sessionFileSchema>;

export interface TelegramGroupConfig {
  readonly enabled: boolean;
  /** Answer only when mentioned or replied to (default true). */
  readonly requireMention: boolean;
  readonly allowFrom?: readonly string[];
  readonly groupPolicy?: GroupPolicy;
}

export interface TelegramConfig {
  readonly enabled: boolean;
  /** Resolved from botToken, tokenFile or TELEGRAM_BOT_TOKEN; set whenever enabled. */
  readonly botToken?: string;
  readonly dmPolicy: DmPolicy;
  /** Normalised numeric user ids, or `*`. */
  readonly allowFrom: readonly string[];
  readonly groupPolicy: GroupPolicy;
  /** Senders allowed in groups; falls back to allowFrom when unset. */
  readonly groupAllowFrom?: readonly string[];
  /** Allowed groups by chat id (`*` for any); empty means none unless groupPolicy is open. */
  readonly groups: Readonly<Record<string, TelegramGroupConfig>>;
  /** Bot API root, without /bot<token>. */
  readonly apiRoot: string;
  readonly streaming: 'partial' | 'off';
  readonly textChunkLimit: number;
  readonly mediaMaxBytes: number;
  /** Webhook mode when set (else long polling). */
  readonly webhookUrl?: string;
  readonly webhookSecret?: string;
  readonly webhookPath: string;
}

export interface ChannelsConfig {
  readonly telegram: TelegramConfig;
}

/** `session.dmScope`: `main` (default) puts every direct message in the main session. */
export interface SessionConfig {
  readonly dmScope: DmScope;
}

/** `telegram:123` / `tg:123` → `123`. */
export function normalizeSenderId(raw: string): string {
  return raw.trim().replace(/^(telegram|tg):/i, '');
}

/** Merge the `channels` layers (later wins per key of channels.telegram) and resolve the token. */
export function resolveChannels(
  layers: readonly (ChannelsFile | undefined)[],
  context: { env: Readonly<Record<string, string | undefined>>; sourceOf: (field: string) => ConfigSource; cwd: string },
): ChannelsConfig {
  const merged = Object.assign({}, ...layers.map((layer) => layer?.telegram).filter((value) => value !== undefined)) as TelegramFile;
  const fail = (key: string, message: string): never => {
    const field = `channels.telegram.${key}`;
    const source = context.sourceOf(field);
    throw new ConfigError(`invalid ${field} ${describeSource(source)}: ${message}`, { field, source });
  };
  const enabled = merged.enabled ?? false;
  const dmPolicy = merged.dmPolicy ?? TELEGRAM_DEFAULTS.dmPolicy;
  const allowFrom = [...(merged.allowFrom ?? [])];
  if (enabled && dmPolicy === 'allowlist' && allowFrom.filter((id) => id !== '*').length === 0) {
    fail('allowFrom', 'dmPolicy "allowlist" needs at least one numeric user id in allowFrom (an empty list would block every direct message)');
  }
  if (enabled && dmPolicy === 'open' && !allowFrom.includes('*')) {
    fail('allowFrom', 'dmPolicy "open" needs allowFrom to include "*" (state that the bot is public on purpose), or use "allowlist"');
  }
  if ((merged.webhookUrl === undefined) !== (merged.webhookSecret === undefined)) {
    fail(merged.webhookUrl === undefined ? 'webhookUrl' : 'webhookSecret', 'webhook mode needs both webhookUrl and webhookSecret');
  }
  if (merged.webhookUrl !== undefined && !isHttpsOrLoopback(new URL(merged.webhookUrl))) fail('webhookUrl', 'expected an https URL (Telegram calls only https webhooks)');
  const botToken = enabled ? resolveToken(merged, context, fail) : undefined;
  const groups: Record<string, TelegramGroupConfig> = {};
  for (const [chatId, group] of Object.entries(merged.groups ?? {})) {
    groups[chatId] = {
      enabled: group.enabled ?? true,
      requireMention: group.requireMention ?? true,
      ...(group.allowFrom === undefined ? {} : { allowFrom: [...group.allowFrom] }),
      ...(group.groupPolicy === undefined ? {} : { groupPolicy: group.groupPolicy }),
    };
  }
  return {
    telegram: {
      enabled,
      ...(botToken === undefined ? {} : { botToken }),
      dmPolicy,
      allowFrom,
      groupPolicy: merged.groupPolicy ?? TELEGRAM_DEFAULTS.groupPolicy,
      ...(merged.groupAllowFrom === undefined ? {} : { groupAllowFrom: [...merged.groupAllowFrom] }),
      groups,
      apiRoot: (merged.apiRoot ?? TELEGRAM_DEFAULTS.apiRoot).replace(/\/+$/, ''),
      streaming: merged.streaming ?? TELEGRAM_DEFAULTS.streaming,
      textChunkLimit: merged.textChunkLimit ?? TELEGRAM_DEFAULTS.textChunkLimit,
      mediaMaxBytes: Math.round((merged.mediaMaxMb ?? TELEGRAM_DEFAULTS.mediaMaxMb) * 1024 * 1024),
      ...(merged.webhookUrl === undefined ? {} : { webhookUrl: merged.webhookUrl, webhookSecret: merged.webhookSecret }),
      webhookPath: merged.webhookPath ?? (merged.webhookUrl === undefined ? TELEGRAM_DEFAULTS.webhookPath : new URL(merged.webhookUrl).pathname),
    },
  };
}

/** Merge the `session` layers. */
export function resolveSession(layers: readonly (SessionFile | undefined)[]): SessionConfig {
  return { dmScope: layers.reduce<DmScope>((scope, layer) => layer?.dmScope ?? scope, 'main') };
}

function resolveToken(merged: TelegramFile, context: { env: Readonly<Record<string, string | undefined>>; cwd: string }, fail: (key: string, message: string) => never): string {
  if (merged.botToken !== undefined) return checkToken(merged.botToken.trim(), 'botToken', fail);
  if (merged.tokenFile !== undefined) {
    const path = isAbsolute(merged.tokenFile) ? merged.tokenFile : resolve(context.cwd, merged.tokenFile);
    let text: string;
    try {
      if (!lstatSync(path).isFile()) fail('tokenFile', `${path} is not a regular file (symlinks are refused)`);
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      return fail('tokenFile', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    return checkToken(text.trim(), 'tokenFile', fail);
  }
  const fromEnv = context.env.TELEGRAM_BOT_TOKEN?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return checkToken(fromEnv, 'botToken', fail);
  return fail('botToken', 'the channel is enabled but has no bot token: set botToken, tokenFile or TELEGRAM_BOT_TOKEN (from @BotFather)');
}

/** BotFather tokens look like `123456:ABC-def…`; anything else would only fail later, at getMe. */
function checkToken(token: string, key: string, fail: (key: string, message: string) => never): string {
  if (!/^\d{1,20}:[A-Za-z0-9_-]{10,200}$/.test(token)) fail(key, 'expected a bot token such as 123456789:AA… (as @BotFather gives it)');
  return token;
}

function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}
