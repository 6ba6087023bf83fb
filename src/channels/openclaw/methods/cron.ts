/**
 * cron.* methods (OpenClaw's automation RPCs) and last-heartbeat. The
 * scheduler loads on the first call (lazy-cron.ts); job input is validated
 * by cron/job-input.ts, the same code the `cron` tool and the CLI go through.
 */

import * as v from 'valibot';
import type { HeartbeatEventPayload } from '../../../bus/scheduler-events.js';
import type { CronHandle } from '../../../cron/lazy-cron.js';
import { GatewayError } from '../../../protocol/errors.js';
import type { MethodTable } from '../method-types.js';

export interface CronMethodDeps {
  cron: CronHandle;
  /** The latest heartbeat outcome, or null before the first. */
  lastHeartbeat(): HeartbeatEventPayload | null;
}

const PageLimit = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200));
const Offset = v.pipe(v.number(), v.integer(), v.minValue(0));
const JobId = v.pipe(v.string(), v.minLength(1), v.regex(/^[^/\\]+$/));
const RunStatus = v.picklist(['ok', 'error', 'skipped']);
const DeliveryStatus = v.picklist(['delivered', 'not-delivered', 'unknown', 'not-requested']);

const ListParams = v.object({
  includeDisabled: v.optional(v.boolean()),
  limit: v.optional(PageLimit),
  offset: v.optional(Offset),
  query: v.optional(v.string()),
  enabled: v.optional(v.picklist(['all', 'enabled', 'disabled'])),
  sortBy: v.optional(v.picklist(['nextRunAtMs', 'updatedAtMs', 'name'])),
  sortDir: v.optional(v.picklist(['asc', 'desc'])),
  compact: v.optional(v.boolean()),
});
const AddParams = v.record(v.string(), v.unknown());
const UpdateParams = v.object({ id: v.optional(JobId), jobId: v.optional(JobId), patch: v.record(v.string(), v.unknown()) });
const IdParams = v.object({ id: v.optional(JobId), jobId: v.optional(JobId) });
const RunParams = v.object({ id: v.optional(JobId), jobId: v.optional(JobId), mode: v.optional(v.picklist(['due', 'force'])) });
const RunsParams = v.object({
  scope: v.optional(v.picklist(['job', 'all'])),
  id: v.optional(JobId),
  jobId: v.optional(JobId),
  runId: v.optional(v.pipe(v.string(), v.minLength(1))),
  limit: v.optional(PageLimit),
  offset: v.optional(Offset),
  statuses: v.optional(v.pipe(v.array(RunStatus), v.minLength(1), v.maxLength(3))),
  status: v.optional(v.picklist(['all', 'ok', 'error', 'skipped'])),
  deliveryStatuses: v.optional(v.pipe(v.array(DeliveryStatus), v.minLength(1), v.maxLength(4))),
  deliveryStatus: v.optional(DeliveryStatus),
  query: v.optional(v.string()),
  sortDir: v.optional(v.picklist(['asc', 'desc'])),
});
const NoParams = v.object({});

/** Build the cron.* entries and last-heartbeat. */
export function createCronMethods(deps: CronMethodDeps): MethodTable {
  const { cron } = deps;
  return {
    'cron.status': {
      params: NoParams,
      scope: 'operator.read',
      async handler() {
        return (await cron.get()).status();
      },
    },
    'cron.list': {
      params: ListParams,
      scope: 'operator.read',
      async handler(params) {
        return (await cron.get()).list(params);
      },
    },
    'cron.add': {
      params: AddParams,
      scope: 'operator.admin',
      async handler(params) {
        return (await cron.get()).add(params, { label: 'invalid cron.add params' });
      },
    },
    'cron.update': {
      params: UpdateParams,
      scope: 'operator.admin',
      async handler(params) {
        const id = jobIdOf(params, 'cron.update');
        return (await cron.get()).update(id, params.patch, { label: 'invalid cron.update params' });
      },
    },
    'cron.remove': {
      params: IdParams,
      scope: 'operator.admin',
      async handler(params) {
        return (await cron.get()).remove(jobIdOf(params, 'cron.remove'));
      },
    },
    'cron.run': {
      params: RunParams,
      scope: 'operator.admin',
      async handler(params) {
        return (await cron.get()).run(jobIdOf(params, 'cron.run'), params.mode ?? 'force');
      },
    },
    'cron.runs': {
      params: RunsParams,
      scope: 'operator.read',
      async handler(params) {
        const jobId = params.id ?? params.jobId;
        const scope = params.scope ?? (jobId === undefined ? 'all' : 'job');
        if (scope === 'job' && jobId === undefined) throw new GatewayError('INVALID_REQUEST', 'invalid cron.runs params: missing id');
        const statuses = params.statuses ?? (params.status === undefined || params.status === 'all' ? undefined : [params.status]);
        const deliveryStatuses = params.deliveryStatuses ?? (params.deliveryStatus === undefined ? undefined : [params.deliveryStatus]);
        return (await cron.get()).runs({
          ...(scope === 'job' ? { jobId } : {}),
          runId: params.runId,
          statuses,
          deliveryStatuses,
          query: params.query,
          sortDir: params.sortDir,
          limit: params.limit,
          offset: params.offset,
        });
      },
    },
    'last-heartbeat': {
      params: NoParams,
      scope: 'operator.read',
      handler() {
        return deps.lastHeartbeat();
      },
    },
  };
}

function jobIdOf(params: { id?: string; jobId?: string }, method: string): string {
  const id = params.id ?? params.jobId;
  if (id === undefined) throw new GatewayError('INVALID_REQUEST', `invalid ${method} params: missing id`);
  return id;
}
