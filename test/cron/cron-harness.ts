/**
 * Drives a real CronService (real job file, real run log, real croner) on a
 * fake clock, with SessionTurns played by a scripted stand-in so a test
 * decides when each run ends.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CronEventPayload, SchedulerEvent } from '../../src/bus/scheduler-events.js';
import { CronService, type CronServiceOptions } from '../../src/cron/cron-service.js';
import { createDeliveryRouter, type DeliveryTarget } from '../../src/cron/delivery.js';
import type { SessionTurns, TurnRequest, TurnResult } from '../../src/cron/session-turns.js';
import { canonicalizeSessionKey } from '../../src/sessions/session-key.js';
import { FakeClock, flush } from '../helpers/fake-clock.js';

export const MAIN = 'agent:main:main';
export const T0 = Date.parse('2026-06-10T12:00:00Z');

export interface TurnCall extends TurnRequest {
  startedAt: number;
  finish(result?: Partial<TurnResult>): void;
}

/** SessionTurns whose runs end when the test says (or at once with `autoFinish`). */
export class ScriptedTurns implements SessionTurns {
  readonly calls: TurnCall[] = [];
  readonly posted: { sessionKey: string; text: string }[] = [];
  readonly resets: string[] = [];
  readonly sessions = new Set<string>([MAIN]);
  autoFinish: Partial<TurnResult> | undefined = { status: 'ok', text: 'done' };
  constructor(private readonly clock: FakeClock) {}

  sessionExists(sessionKey: string): boolean {
    return this.sessions.has(sessionKey);
  }

  async resetSession(sessionKey: string): Promise<void> {
    this.resets.push(sessionKey);
    this.sessions.add(sessionKey);
  }

  runTurn(request: TurnRequest): Promise<TurnResult> {
    return new Promise((resolve) => {
      const call: TurnCall = {
        ...request,
        startedAt: this.clock.now(),
        finish: (result = {}) => resolve({ runId: request.runId, status: 'ok', text: 'done', ...result }),
      };
      this.calls.push(call);
      if (this.autoFinish !== undefined) call.finish(this.autoFinish);
    });
  }

  async postMessage(sessionKey: string, text: string): Promise<void> {
    this.posted.push({ sessionKey, text });
  }
}

export interface Harness {
  stateDir: string;
  clock: FakeClock;
  turns: ScriptedTurns;
  events: CronEventPayload[];
  service: CronService;
  /** Start another service on the same state dir (a restart), at the clock's time. */
  restart(options?: Partial<CronServiceOptions>): Promise<CronService>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<CronServiceOptions> & { stateDir?: string; now?: number; targets?: DeliveryTarget[] } = {}): Promise<Harness> {
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'pincer-cron-')));
  const clock = new FakeClock(options.now ?? T0);
  const turns = new ScriptedTurns(clock);
  const events: CronEventPayload[] = [];
  const services: CronService[] = [];
  const build = async (overrides: Partial<CronServiceOptions> = {}) => {
    const service = await CronService.start({
      stateDir,
      turns,
      delivery: createDeliveryRouter({ turns, mainSessionKey: MAIN, targets: options.targets }),
      mainSessionKey: MAIN,
      canonicalize: (raw) => canonicalizeSessionKey(raw, { agentIds: ['main'] }),
      publish: (event: SchedulerEvent) => {
        if (event.type === 'cron') events.push(event.payload);
      },
      options: {
        enabled: options.enabled ?? true,
        skipMissedJobs: options.skipMissedJobs ?? false,
        maxConcurrentRuns: options.maxConcurrentRuns ?? 4,
        ...overrides,
      },
      clock,
    });
    services.push(service);
    return service;
  };
  const harness: Harness = {
    stateDir,
    clock,
    turns,
    events,
    service: await build(),
    async restart(overrides) {
      await harness.service.stop(0);
      harness.service = await build(overrides);
      // Catch-up runs start on a zero-delay timer, as they would at once on a real clock.
      await clock.advance(0);
      return harness.service;
    },
    async close() {
      await flush();
      for (const service of services) {
        await service.stop(0);
        // Runs that ended are still writing their records; let them finish before the files go.
        await service.settled();
      }
      if (options.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
    },
  };
  clock.settle = () => harness.service.settled();
  return harness;
}

/** Let ended runs finish their bookkeeping (and the runs that start after them begin). */
export async function settle(h: Harness): Promise<void> {
  await flush();
  await h.service.settled();
  await flush();
}

/** Actions of the cron events of one job, in order. */
export function actionsOf(events: CronEventPayload[], jobId: string): string[] {
  return events.filter((event) => event.jobId === jobId).map((event) => event.action);
}
