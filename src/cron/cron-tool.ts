/**
 * The `cron` tool: lets the model set, list, run and remove scheduled jobs
 * itself ("remind me in 20 minutes"). Input goes through the same validation
 * as the cron.* methods; a job it creates runs in the chat it was asked from
 * unless it names another session.
 */

import * as v from 'valibot';
import { GatewayError } from '../protocol/errors.js';
import { argumentsSchema, parseArguments, textOutcome, ToolInputError, type AgentTool } from '../agent/tools/agent-tool.js';
import type { CronHandle } from './lazy-cron.js';

export const CRON_TOOL_NAME = 'cron';
const ACTIONS = ['status', 'list', 'add', 'update', 'remove', 'run', 'runs'] as const;

const cronToolSchema = argumentsSchema({
  action: v.picklist(ACTIONS, `expected one of ${ACTIONS.join(', ')}`),
  job: v.optional(v.record(v.string(), v.unknown(), 'expected a job object')),
  jobId: v.optional(v.pipe(v.string('expected a job id'), v.minLength(1, 'must not be empty'))),
  patch: v.optional(v.record(v.string(), v.unknown(), 'expected a patch object')),
  includeDisabled: v.optional(v.boolean('expected true or false')),
});

const DESCRIPTION =
  'Manage scheduled jobs and reminders. Actions: add (job), list, status, update (jobId, patch), remove (jobId), run (jobId: run now), ' +
  'runs (jobId: recent results). A job is {name?, schedule, payload, sessionTarget?, delivery?, enabled?}. schedule is one of ' +
  '{kind:"at", at:"<ISO-8601 time, e.g. 2027-02-01T16:00:00Z, or a delay such as 20m or 2h>"}, {kind:"every", everyMs:<ms>} or ' +
  '{kind:"cron", expr:"<5 or 6 field cron expression>", tz:"<IANA zone, e.g. Europe/Vienna>"}. payload is {kind:"agentTurn", message:"<what ' +
  'to do or say when it fires>"}. sessionTarget defaults to "current" (this chat); "main", "isolated" (a fresh session each run) and ' +
  '"session:<key>" also work. One-time (at) jobs delete themselves after a successful run. For "remind me in 20 minutes to X" use ' +
  '{action:"add", job:{schedule:{kind:"at", at:"20m"}, payload:{kind:"agentTurn", message:"Remind the user: X"}}}.';

/** The tool, over a scheduler that is loaded on its first call. */
export function createCronTool(cron: CronHandle): AgentTool {
  return {
    spec: {
      name: CRON_TOOL_NAME,
      description: DESCRIPTION,
      parameters: {
        type: 'object',
        properties: {
          action: { type: 'string', enum: [...ACTIONS] },
          job: { type: 'object', description: 'add: the job to create' },
          jobId: { type: 'string', description: 'update, remove, run, runs: the job id' },
          patch: { type: 'object', description: 'update: the fields to change' },
          includeDisabled: { type: 'boolean', description: 'list: include disabled jobs' },
        },
        required: ['action'],
      },
    },
    async execute(args, _signal, context) {
      const input = parseArguments(cronToolSchema, args);
      const service = await cron.get();
      const label = `invalid cron ${input.action} arguments`;
      try {
        switch (input.action) {
          case 'status':
            return json(service.status());
          case 'list':
            return json(service.list({ includeDisabled: input.includeDisabled, compact: true, limit: 200 }));
          case 'add': {
            if (input.job === undefined) throw new ToolInputError('add needs job');
            const job = { ...input.job };
            if (job.sessionTarget === undefined && context !== undefined) job.sessionTarget = 'current';
            return json(await service.add(job, { label, currentSessionKey: context?.sessionKey }));
          }
          case 'update':
            return json(await service.update(requireJobId(input.jobId, 'update'), input.patch ?? {}, { label, currentSessionKey: context?.sessionKey }));
          case 'remove':
            return json(await service.remove(requireJobId(input.jobId, 'remove')));
          case 'run':
            return json(service.run(requireJobId(input.jobId, 'run'), 'force', label));
          case 'runs':
            return json(await service.runs({ jobId: requireJobId(input.jobId, 'runs'), limit: 20 }));
        }
      } catch (error) {
        // Bad job input is the model's to fix: say exactly which field.
        if (error instanceof GatewayError && error.code === 'INVALID_REQUEST') throw new ToolInputError(error.message);
        throw error;
      }
    },
  };
}

function requireJobId(jobId: string | undefined, action: string): string {
  if (jobId === undefined) throw new ToolInputError(`${action} needs jobId`);
  return jobId;
}

function json(value: unknown) {
  return textOutcome(JSON.stringify(value, null, 2));
}
