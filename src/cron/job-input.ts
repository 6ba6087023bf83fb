/**
 * Turns cron.add / cron.update input (from a client, the `cron` tool or the
 * CLI) into a valid job, or throws a GatewayError naming the first bad field.
 * Shapes follow OpenClaw's cron schema; checks that need the clock, the
 * session store or croner happen here too, so nothing invalid is ever stored.
 */

import * as v from 'valibot';
import { parseDurationMs } from '../config/duration.js';
import { isKnownTimeZone } from '../config/schema.js';
import { GatewayError } from '../protocol/errors.js';
import type {
  CronDelivery,
  CronJob,
  CronJobCreate,
  CronJobPatch,
  CronPayload,
  CronSchedule,
  CronSessionTarget,
} from './cron-types.js';
import type { CronEngine } from './schedule.js';

/** OpenClaw accepts an `at` up to a minute in the past (clock skew between client and gateway). */
export const AT_PAST_GRACE_MS = 60_000;
/** …and at most ten years ahead. */
export const AT_MAX_FUTURE_MS = Math.round(10 * 365.25 * 86_400_000);
export const MAX_JOB_NAME_CHARS = 200;
export const MAX_JOB_TEXT_CHARS = 100_000;
/** Longest job timeout (seconds): a day. */
export const MAX_JOB_TIMEOUT_SECONDS = 86_400;

/** What validation needs to know about the gateway. */
export interface JobInputContext {
  now: number;
  cron: CronEngine;
  /** Raw session key → canonical; throws GatewayError for a malformed key. */
  canonicalize(raw: string): string;
  sessionExists(canonicalKey: string): boolean;
  /** Channels a delivery may name (besides `last`). */
  deliveryChannels: readonly string[];
  /** The session a `cron` tool call came from: sessionTarget `current` resolves to it. */
  currentSessionKey?: string;
  /** Prefix of error messages, e.g. `invalid cron.add params`. */
  label: string;
}

const text = (what: string, max: number) =>
  v.pipe(
    v.string(`must be ${what}`),
    v.check((value) => value.trim() !== '', 'must not be empty'),
    v.maxLength(max, `must be at most ${max} characters`),
  );
const bool = v.boolean('must be true or false');

const ScheduleInput = v.object(
  {
    kind: v.optional(v.picklist(['at', 'every', 'cron'], 'must be one of at, every, cron')),
    at: v.optional(v.union([v.string(), v.number()], 'must be an ISO-8601 time, a duration such as 20m, or epoch ms')),
    atMs: v.optional(v.pipe(v.number('must be epoch ms'), v.integer('must be an integer'))),
    everyMs: v.optional(v.pipe(v.number('must be a number of ms'), v.integer('must be an integer'), v.minValue(1, 'must be at least 1 (ms)'))),
    anchorMs: v.optional(v.pipe(v.number('must be epoch ms'), v.integer('must be an integer'), v.minValue(0, 'must be >= 0'))),
    expr: v.optional(text('a cron expression', 200)),
    tz: v.optional(v.string('must be an IANA time zone')),
  },
  'must be an object',
);

const PayloadInput = v.object(
  {
    kind: v.optional(v.picklist(['systemEvent', 'agentTurn'], 'must be systemEvent or agentTurn')),
    text: v.optional(text('a string', MAX_JOB_TEXT_CHARS)),
    message: v.optional(text('a string', MAX_JOB_TEXT_CHARS)),
    timeoutSeconds: v.optional(
      v.pipe(
        v.number('must be a number of seconds'),
        v.integer('must be an integer'),
        v.minValue(0, 'must be >= 0'),
        v.maxValue(MAX_JOB_TIMEOUT_SECONDS, `must be <= ${MAX_JOB_TIMEOUT_SECONDS}`),
      ),
    ),
  },
  'must be an object',
);

const DeliveryInput = v.object(
  {
    mode: v.optional(v.picklist(['none', 'announce', 'webhook'], 'must be none or announce')),
    channel: v.optional(text('a channel id', 100)),
    to: v.optional(v.string('must be a string')),
    bestEffort: v.optional(bool),
  },
  'must be an object',
);

const JobFields = {
  name: v.optional(text('a string', MAX_JOB_NAME_CHARS)),
  description: v.optional(v.pipe(v.string('must be a string'), v.maxLength(2000, 'must be at most 2000 characters'))),
  agentId: v.optional(v.nullable(v.string('must be a string'))),
  enabled: v.optional(bool),
  deleteAfterRun: v.optional(bool),
  sessionTarget: v.optional(v.string('must be main, isolated or session:<key>')),
  sessionKey: v.optional(v.nullable(v.string('must be a string'))),
  wakeMode: v.optional(v.picklist(['now', 'next-heartbeat'], 'must be now or next-heartbeat')),
  schedule: v.optional(ScheduleInput),
  payload: v.optional(PayloadInput),
  delivery: v.optional(DeliveryInput),
};

/** cron.add params (unknown keys are ignored, like every method). */
export const JobCreateInput = v.object(JobFields, 'must be an object');
/** cron.update's `patch`. */
export const JobPatchInput = v.object(JobFields, 'must be an object');

/** Validate a new job. Throws GatewayError INVALID_REQUEST naming the field. */
export function parseJobCreate(raw: unknown, ctx: JobInputContext): CronJobCreate {
  const input = shape(JobCreateInput, raw, ctx.label);
  checkAgent(input.agentId, ctx);
  if (input.schedule === undefined) throw fieldError(ctx, 'schedule', 'is required');
  if (input.payload === undefined) throw fieldError(ctx, 'payload', 'is required');
  const schedule = parseSchedule(input.schedule, ctx);
  const payload = parsePayload(input.payload, undefined, ctx);
  const sessionTarget = parseSessionTarget(input.sessionTarget, payload, ctx);
  const delivery = parseDelivery(input.delivery, undefined, sessionTarget, payload, ctx);
  const job: CronJobCreate = {
    name: input.name?.trim() ?? inferName(payload),
    enabled: input.enabled ?? true,
    schedule,
    sessionTarget,
    wakeMode: input.wakeMode ?? 'now',
    payload,
  };
  if (input.description !== undefined) job.description = input.description;
  if (input.deleteAfterRun !== undefined) job.deleteAfterRun = input.deleteAfterRun;
  else if (schedule.kind === 'at') job.deleteAfterRun = true;
  if (delivery !== undefined) job.delivery = delivery;
  return job;
}

/** Apply a cron.update patch to a copy of `job` and validate the result. Throws like parseJobCreate. */
export function applyJobPatch(job: CronJob, raw: unknown, ctx: JobInputContext): { job: CronJob; patch: CronJobPatch } {
  const input = shape(JobPatchInput, raw, ctx.label, 'patch');
  checkAgent(input.agentId, ctx, 'patch.agentId');
  const next: CronJob = structuredClone(job);
  const patch: CronJobPatch = {};
  if (input.name !== undefined) next.name = patch.name = input.name.trim();
  if (input.description !== undefined) next.description = patch.description = input.description;
  if (input.enabled !== undefined) next.enabled = patch.enabled = input.enabled;
  if (input.deleteAfterRun !== undefined) next.deleteAfterRun = patch.deleteAfterRun = input.deleteAfterRun;
  if (input.wakeMode !== undefined) next.wakeMode = patch.wakeMode = input.wakeMode;
  if (input.schedule !== undefined) next.schedule = patch.schedule = parseSchedule(input.schedule, ctx, 'patch.schedule');
  if (input.payload !== undefined) next.payload = parsePayload(input.payload, job.payload, ctx, 'patch.payload');
  if (input.sessionTarget !== undefined) next.sessionTarget = parseSessionTarget(input.sessionTarget, next.payload, ctx, 'patch.sessionTarget');
  if (input.delivery !== undefined || input.sessionTarget !== undefined) {
    const delivery = parseDelivery(input.delivery, job.delivery, next.sessionTarget, next.payload, ctx, 'patch.delivery');
    if (delivery === undefined) delete next.delivery;
    else next.delivery = delivery;
  }
  return { job: next, patch };
}

/**
 * Parse an `at` time: ISO-8601 (no zone means UTC), epoch ms, a run of digits
 * (Unix seconds) or a relative duration such as `20m` / `+2h`. Undefined when unreadable.
 */
export function parseAtMs(value: string | number, now: number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value) : undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d{9,11}$/.test(trimmed)) return Number(trimmed) * 1000;
  const relative = /^\+?(\d+(?:\.\d+)?\s*(?:ms|s|m|h|d))$/i.exec(trimmed);
  if (relative !== null) {
    const ms = parseDurationMs(relative[1]);
    return ms === undefined ? undefined : now + ms;
  }
  // ISO date-times without an offset are UTC, as OpenClaw documents (not the host zone).
  const hasZone = /(?:z|[+-]\d{2}:?\d{2})$/i.test(trimmed);
  const iso = /^\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?/i.test(trimmed);
  if (!iso) return undefined;
  const normalised = trimmed.replace(' ', 'T');
  const parsed = Date.parse(hasZone || !normalised.includes('T') ? normalised : `${normalised}Z`);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function parseSchedule(input: v.InferOutput<typeof ScheduleInput>, ctx: JobInputContext, field = 'schedule'): CronSchedule {
  const kind = input.kind ?? (input.at !== undefined || input.atMs !== undefined ? 'at' : input.everyMs !== undefined ? 'every' : input.expr !== undefined ? 'cron' : undefined);
  if (kind === undefined) throw fieldError(ctx, `${field}.kind`, 'is required (at, every or cron)');
  switch (kind) {
    case 'at': {
      const raw = input.at ?? input.atMs;
      if (raw === undefined) throw fieldError(ctx, `${field}.at`, 'is required for kind "at"');
      const atMs = parseAtMs(raw, ctx.now);
      if (atMs === undefined) throw fieldError(ctx, `${field}.at`, `expected an ISO-8601 time such as 2027-02-01T16:00:00Z or a duration such as 20m (got ${JSON.stringify(raw)})`);
      if (atMs < ctx.now - AT_PAST_GRACE_MS) {
        throw fieldError(ctx, `${field}.at`, `is in the past: ${new Date(atMs).toISOString()} (now ${new Date(ctx.now).toISOString()})`);
      }
      if (atMs > ctx.now + AT_MAX_FUTURE_MS) throw fieldError(ctx, `${field}.at`, `is more than 10 years ahead: ${new Date(atMs).toISOString()}`);
      return { kind: 'at', at: new Date(atMs).toISOString() };
    }
    case 'every': {
      if (input.everyMs === undefined) throw fieldError(ctx, `${field}.everyMs`, 'is required for kind "every"');
      if (input.tz !== undefined) throw fieldError(ctx, `${field}.tz`, 'is only valid with kind "cron"');
      return input.anchorMs === undefined ? { kind: 'every', everyMs: input.everyMs } : { kind: 'every', everyMs: input.everyMs, anchorMs: input.anchorMs };
    }
    case 'cron': {
      if (input.expr === undefined) throw fieldError(ctx, `${field}.expr`, 'is required for kind "cron"');
      const expr = input.expr.trim().replace(/\s+/g, ' ');
      const fields = expr.split(' ').length;
      if (fields !== 5 && fields !== 6) throw fieldError(ctx, `${field}.expr`, `expected 5 or 6 fields, got ${fields} in ${JSON.stringify(expr)}`);
      const tz = input.tz?.trim() || undefined;
      if (tz !== undefined && !isKnownTimeZone(tz)) throw fieldError(ctx, `${field}.tz`, `unknown time zone ${JSON.stringify(tz)} (expected an IANA name such as Europe/Vienna)`);
      let next: number | undefined;
      try {
        next = ctx.cron.nextAfter(expr, tz, ctx.now);
      } catch (error) {
        throw fieldError(ctx, `${field}.expr`, `invalid cron expression ${JSON.stringify(expr)}: ${cronReason(error)}`);
      }
      if (next === undefined) throw fieldError(ctx, `${field}.expr`, `${JSON.stringify(expr)} never fires`);
      return tz === undefined ? { kind: 'cron', expr } : { kind: 'cron', expr, tz };
    }
  }
}

function parsePayload(
  input: v.InferOutput<typeof PayloadInput>,
  current: CronPayload | undefined,
  ctx: JobInputContext,
  field = 'payload',
): CronPayload {
  const kind = input.kind ?? (input.message !== undefined ? 'agentTurn' : input.text !== undefined ? 'systemEvent' : current?.kind);
  if (kind === undefined) throw fieldError(ctx, `${field}.kind`, 'is required (agentTurn with message, or systemEvent with text)');
  const previous = current?.kind === 'agentTurn' ? current.message : current?.text;
  if (kind === 'systemEvent') {
    const body = (input.text ?? (current?.kind === kind ? previous : undefined))?.trim();
    if (body === undefined) throw fieldError(ctx, `${field}.text`, 'is required for kind "systemEvent"');
    return { kind, text: body };
  }
  const body = (input.message ?? (current?.kind === kind ? previous : undefined))?.trim();
  if (body === undefined) throw fieldError(ctx, `${field}.message`, 'is required for kind "agentTurn"');
  const timeout = input.timeoutSeconds ?? (current?.kind === 'agentTurn' ? current.timeoutSeconds : undefined);
  return timeout === undefined ? { kind, message: body } : { kind, message: body, timeoutSeconds: timeout };
}

function parseSessionTarget(raw: string | undefined, payload: CronPayload, ctx: JobInputContext, field = 'sessionTarget'): CronSessionTarget {
  const value = raw?.trim();
  if (value === undefined || value === '') return payload.kind === 'systemEvent' ? 'main' : 'isolated';
  if (value === 'main' || value === 'isolated') return value;
  if (value === 'current') {
    if (ctx.currentSessionKey === undefined) throw fieldError(ctx, field, '"current" needs a calling session; use main, isolated or session:<key>');
    return `session:${ctx.currentSessionKey}`;
  }
  if (!value.startsWith('session:')) throw fieldError(ctx, field, `must be main, isolated or session:<key> (got ${JSON.stringify(value)})`);
  let key: string;
  try {
    key = ctx.canonicalize(value.slice('session:'.length));
  } catch (error) {
    throw fieldError(ctx, field, error instanceof Error ? error.message : String(error));
  }
  if (!ctx.sessionExists(key)) throw fieldError(ctx, field, `session not found: ${key}`);
  return `session:${key}`;
}

function parseDelivery(
  input: v.InferOutput<typeof DeliveryInput> | undefined,
  current: CronDelivery | undefined,
  sessionTarget: CronSessionTarget,
  payload: CronPayload,
  ctx: JobInputContext,
  field = 'delivery',
): CronDelivery | undefined {
  if (input === undefined) {
    if (current !== undefined) return current;
    // OpenClaw announces isolated agent turns by default; a main-session run is already where the user looks.
    return sessionTarget === 'isolated' && payload.kind === 'agentTurn' ? { mode: 'announce' } : undefined;
  }
  const merged = { ...current, ...input };
  if (merged.mode === 'webhook') throw fieldError(ctx, `${field}.mode`, 'webhook delivery is not supported; use none or announce');
  const mode = merged.mode ?? 'announce';
  const delivery: CronDelivery = { mode };
  const channel = merged.channel?.trim().toLowerCase();
  if (channel !== undefined && channel !== 'last') {
    if (!ctx.deliveryChannels.includes(channel)) {
      const known = ctx.deliveryChannels.length === 0 ? 'none is configured' : `configured: ${ctx.deliveryChannels.join(', ')}`;
      throw fieldError(ctx, `${field}.channel`, `unknown channel ${JSON.stringify(channel)} (${known}; omit it or use "last" to deliver to the main session)`);
    }
    const to = merged.to?.trim();
    if (mode === 'announce' && (to === undefined || to === '')) throw fieldError(ctx, `${field}.to`, `is required to deliver to channel ${channel}`);
  }
  if (channel !== undefined) delivery.channel = channel;
  if (merged.to !== undefined && merged.to.trim() !== '') delivery.to = merged.to.trim();
  if (merged.bestEffort !== undefined) delivery.bestEffort = merged.bestEffort;
  return delivery;
}

function checkAgent(agentId: string | null | undefined, ctx: JobInputContext, field = 'agentId'): void {
  if (agentId === undefined || agentId === null) return;
  if (agentId.trim().toLowerCase() !== 'main') throw fieldError(ctx, field, `unknown agent: ${agentId} (this gateway runs "main")`);
}

function inferName(payload: CronPayload): string {
  const body = (payload.kind === 'agentTurn' ? payload.message : payload.text).replace(/\s+/g, ' ').trim();
  return body.length <= 60 ? body : `${body.slice(0, 59)}…`;
}

function shape<S extends v.GenericSchema>(schema: S, raw: unknown, label: string, root?: string): v.InferOutput<S> {
  const result = v.safeParse(schema, raw ?? {});
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = [root, v.getDotPath(issue)].filter((part) => part !== undefined && part !== null).join('.');
  const message = issue.received === 'undefined' ? 'is required' : issue.message;
  throw new GatewayError('INVALID_REQUEST', `${label}: ${path === '' ? '' : `${path} `}${message}`, { details: { field: path } });
}

function fieldError(ctx: JobInputContext, field: string, reason: string): GatewayError {
  return new GatewayError('INVALID_REQUEST', `${ctx.label}: ${field} ${reason}`, { details: { field } });
}

function cronReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^CronPattern: /, '');
}
