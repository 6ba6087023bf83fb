/**
 * `pincer cron list|add|rm|run`: manage scheduled jobs on the running gateway
 * over its protocol (cron.* methods), like `openclaw cron`. The gateway owns
 * the job file and validates every change, so the CLI never edits it.
 */

import { parseDurationMs } from '../config/duration.js';
import { loadClientConfig } from './client-config.js';
import { callGateway } from './gateway-rpc.js';
import { stringOption } from './option-parsers.js';

type Options = Record<string, unknown>;

/** `pincer cron list [--all] [--json]` */
export async function runCronList(options: Options): Promise<void> {
  const page = (await callGateway(loadClientConfig(options), 'cron.list', { includeDisabled: options.all === true, limit: 200 })) as {
    jobs: JobRow[];
    total: number;
  };
  if (options.json === true) return print(page);
  if (page.jobs.length === 0) {
    process.stdout.write(options.all === true ? 'no jobs\n' : 'no enabled jobs (--all lists disabled ones too)\n');
    return;
  }
  const rows = page.jobs.map((job) => [
    job.id,
    job.name,
    describeSchedule(job.schedule),
    job.state?.nextRunAtMs === undefined ? '-' : new Date(job.state.nextRunAtMs).toISOString(),
    job.state?.lastStatus ?? '-',
    job.enabled ? 'yes' : 'no',
  ]);
  process.stdout.write(table([['ID', 'NAME', 'SCHEDULE', 'NEXT RUN', 'LAST', 'ENABLED'], ...rows]));
}

/** `pincer cron add [schedule] [message] [--at|--every|--cron …] …` */
export async function runCronAdd(scheduleArg: string | undefined, messageArg: string | undefined, options: Options): Promise<void> {
  const job: Record<string, unknown> = { schedule: scheduleOf(scheduleArg, options), payload: payloadOf(messageArg, options) };
  const name = stringOption(options, 'name');
  if (name !== undefined) job.name = name;
  const session = stringOption(options, 'session');
  if (session !== undefined) job.sessionTarget = session;
  if (options.announce === true) job.delivery = { mode: 'announce' };
  if (options.deliver === false) job.delivery = { mode: 'none' };
  if (options.keepAfterRun === true) job.deleteAfterRun = false;
  if (options.disabled === true) job.enabled = false;
  const added = (await callGateway(loadClientConfig(options), 'cron.add', job)) as JobRow;
  if (options.json === true) return print(added);
  const next = added.state?.nextRunAtMs === undefined ? 'no next run' : `next run ${new Date(added.state.nextRunAtMs).toISOString()}`;
  process.stdout.write(`added ${added.id} "${added.name}" (${describeSchedule(added.schedule)}): ${next}\n`);
}

/** `pincer cron rm <id>` */
export async function runCronRemove(id: string, options: Options): Promise<void> {
  const result = (await callGateway(loadClientConfig(options), 'cron.remove', { id })) as { removed: boolean };
  if (options.json === true) return print(result);
  if (!result.removed) throw new Error(`no job with id ${id}`);
  process.stdout.write(`removed ${id}\n`);
}

/** `pincer cron run <id> [--due]` */
export async function runCronRun(id: string, options: Options): Promise<void> {
  const result = (await callGateway(loadClientConfig(options), 'cron.run', { id, mode: options.due === true ? 'due' : 'force' })) as {
    enqueued?: boolean;
    runId?: string;
    reason?: string;
  };
  if (options.json === true) return print(result);
  if (result.enqueued === true) process.stdout.write(`started run ${result.runId} of ${id}\n`);
  else process.stdout.write(`not run: ${result.reason ?? 'unknown reason'}\n`);
}

interface JobRow {
  id: string;
  name: string;
  enabled: boolean;
  schedule: { kind: string; at?: string; everyMs?: number; expr?: string; tz?: string };
  state?: { nextRunAtMs?: number; lastStatus?: string };
}

/** The schedule from --at/--every/--cron, or from the positional form (`"0 9 * * 1"`, `"every 1h"`, `"20m"`, an ISO time). */
function scheduleOf(positional: string | undefined, options: Options): Record<string, unknown> {
  const at = stringOption(options, 'at');
  const every = stringOption(options, 'every');
  const cron = stringOption(options, 'cron');
  const given = [at, every, cron, positional].filter((value) => value !== undefined);
  if (given.length !== 1) throw new Error('give exactly one schedule: a positional schedule, --at, --every or --cron');
  const tz = stringOption(options, 'tz');
  if (cron !== undefined) return withZone({ kind: 'cron', expr: cron }, tz);
  if (at !== undefined) return { kind: 'at', at };
  const text = (every ?? (positional as string)).trim();
  const everyText = every ?? /^every\s+(.+)$/i.exec(text)?.[1];
  if (everyText !== undefined) {
    const everyMs = parseDurationMs(everyText);
    if (everyMs === undefined || everyMs < 1) throw new Error(`--every: expected a duration such as 10m, 1h or 30s, got ${JSON.stringify(everyText)}`);
    return { kind: 'every', everyMs };
  }
  if (text.split(/\s+/).length >= 5) return withZone({ kind: 'cron', expr: text }, tz);
  return { kind: 'at', at: text };
}

function withZone(schedule: Record<string, unknown>, tz: string | undefined): Record<string, unknown> {
  return tz === undefined ? schedule : { ...schedule, tz };
}

function payloadOf(positional: string | undefined, options: Options): Record<string, unknown> {
  const message = stringOption(options, 'message') ?? positional;
  const systemEvent = stringOption(options, 'systemEvent');
  if (message !== undefined && systemEvent !== undefined) throw new Error('give either a message or --system-event, not both');
  if (systemEvent !== undefined) return { kind: 'systemEvent', text: systemEvent };
  if (message === undefined) throw new Error('give the message for the agent (positional or --message)');
  return { kind: 'agentTurn', message };
}

function describeSchedule(schedule: JobRow['schedule']): string {
  if (schedule.kind === 'at') return `at ${schedule.at}`;
  if (schedule.kind === 'every') return `every ${schedule.everyMs} ms`;
  return `cron ${schedule.expr}${schedule.tz === undefined ? '' : ` (${schedule.tz})`}`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ')).join('\n') + '\n';
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
