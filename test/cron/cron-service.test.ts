import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { GatewayError } from '../../src/protocol/errors.js';
import type { CronJob } from '../../src/cron/cron-types.js';
import { jobsFilePath } from '../../src/cron/cron-paths.js';
import { MAX_RUN_LOG_ENTRIES, RunLog } from '../../src/cron/run-log.js';
import { flush } from '../helpers/fake-clock.js';
import { MAIN, T0, actionsOf, settle, startHarness, type Harness } from './cron-harness.js';

const ADD = { label: 'invalid cron.add params' };
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  harness = await startHarness(options);
  return harness;
}

function remind(schedule: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { name: 'test job', schedule, payload: { kind: 'agentTurn', message: 'Say hi' }, ...extra };
}

async function storedJobs(h: Harness): Promise<CronJob[]> {
  return JSON.parse(await readFile(jobsFilePath(h.stateDir), 'utf8')).jobs;
}

describe('CronService schedules', () => {
  it('every: fires on each period and not before, even every few seconds', async () => {
    const h = await start();
    const job = await h.service.add(remind({ kind: 'every', everyMs: 2_000 }), ADD);
    assert.equal(job.state.nextRunAtMs, T0 + 2_000);
    await h.clock.advance(1_999);
    assert.equal(h.turns.calls.length, 0);
    await h.clock.advance(1);
    assert.deepEqual(h.turns.calls.map((call) => call.startedAt), [T0 + 2_000]);
    await h.clock.advance(4_000);
    assert.deepEqual(h.turns.calls.map((call) => call.startedAt), [T0 + 2_000, T0 + 4_000, T0 + 6_000]);
    assert.deepEqual(actionsOf(h.events, job.id), ['added', 'started', 'finished', 'started', 'finished', 'started', 'finished']);
    const runs = await h.service.runs({ jobId: job.id });
    assert.equal(runs.total, 3);
    assert.deepEqual(runs.entries.map((entry) => entry.runAtMs), [T0 + 6_000, T0 + 4_000, T0 + 2_000]);
    assert.equal(runs.entries[0].status, 'ok');
    assert.equal(runs.entries[0].summary, 'done');
  });

  it('at: runs once in the main session, then deletes itself after success', async () => {
    const h = await start();
    const job = await h.service.add(remind({ kind: 'at', at: new Date(T0 + 60_000).toISOString() }, { sessionTarget: 'main' }), ADD);
    assert.equal(job.deleteAfterRun, true);
    await h.clock.advance(60_000);
    await h.service.idle();
    await flush();
    assert.equal(h.turns.calls.length, 1);
    assert.equal(h.turns.calls[0].sessionKey, MAIN);
    assert.equal(h.turns.calls[0].text, 'Say hi');
    assert.deepEqual(actionsOf(h.events, job.id), ['added', 'started', 'finished', 'removed']);
    assert.deepEqual(await storedJobs(h), []);
    await h.clock.advance(3_600_000);
    assert.equal(h.turns.calls.length, 1);
  });

  it('at: a failed one-time job is kept, disabled, with its error', async () => {
    const h = await start();
    h.turns.autoFinish = { status: 'error', text: '', error: 'model unavailable' };
    const job = await h.service.add(remind({ kind: 'at', at: '30s' }), ADD);
    assert.equal(job.schedule.kind === 'at' && job.schedule.at, new Date(T0 + 30_000).toISOString());
    await h.clock.advance(30_000);
    await h.service.idle();
    const [stored] = await storedJobs(h);
    assert.equal(stored.enabled, false);
    assert.equal(stored.state.lastStatus, 'error');
    assert.equal(stored.state.lastError, 'model unavailable');
    assert.equal(stored.state.nextRunAtMs, undefined);
  });

  it('cron: fires in the job time zone and across a DST change', async () => {
    const start0 = Date.parse('2026-03-28T12:00:00Z');
    const h = await start({ now: start0 });
    const job = await h.service.add(remind({ kind: 'cron', expr: '30 2 * * *', tz: 'Europe/Vienna' }), ADD);
    // 02:30 does not exist in Vienna on 2026-03-29 (clocks jump 02:00 → 03:00): it fires at 03:00 local.
    assert.equal(new Date(job.state.nextRunAtMs as number).toISOString(), '2026-03-29T01:00:00.000Z');
    await h.clock.advance(48 * 3_600_000);
    assert.deepEqual(
      h.turns.calls.map((call) => new Date(call.startedAt).toISOString()),
      ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    );
    const tokyo = await h.service.add(remind({ kind: 'cron', expr: '0 9 * * 1-5', tz: 'Asia/Tokyo' }), ADD);
    // Monday 2026-03-30 14:00 Tokyo now: the next weekday 09:00 Tokyo is Tuesday 00:00 UTC.
    assert.equal(new Date(tokyo.state.nextRunAtMs as number).toISOString(), '2026-03-31T00:00:00.000Z');
  });
});

describe('CronService durability', () => {
  it('keeps jobs in a 0600 file that survives a restart', async () => {
    const h = await start();
    const job = await h.service.add(remind({ kind: 'every', everyMs: 60_000 }), ADD);
    const info = await stat(jobsFilePath(h.stateDir));
    assert.equal(info.mode & 0o777, 0o600);
    const again = await h.restart();
    assert.deepEqual(again.getJob(job.id), job);
  });

  it('restart: a slot missed while down runs once, then the schedule resumes', async () => {
    const h = await start();
    const job = await h.service.add(remind({ kind: 'every', everyMs: 3_600_000 }), ADD);
    await h.service.stop(0);
    h.clock.set(T0 + 5 * 3_600_000 + 60_000);
    await h.restart();
    await h.service.idle();
    assert.equal(h.turns.calls.length, 1, 'five missed slots, one catch-up run');
    assert.equal(h.turns.calls[0].startedAt, T0 + 5 * 3_600_000 + 60_000);
    assert.equal(h.service.getJob(job.id)?.state.nextRunAtMs, T0 + 6 * 3_600_000);
    await h.clock.advance(3_600_000);
    assert.equal(h.turns.calls.length, 2);
  });

  it('restart with cron.skipMissedJobs: recurring slots are skipped, a missed one-time job still runs', async () => {
    const h = await start();
    const every = await h.service.add(remind({ kind: 'every', everyMs: 3_600_000 }), ADD);
    const once = await h.service.add(remind({ kind: 'at', at: '2h' }), ADD);
    await h.service.stop(0);
    h.clock.set(T0 + 5 * 3_600_000 + 60_000);
    await h.restart({ skipMissedJobs: true });
    await h.service.idle();
    await flush();
    assert.equal(h.turns.calls.length, 1);
    assert.equal(h.service.getJob(every.id)?.state.nextRunAtMs, T0 + 6 * 3_600_000);
    assert.equal(h.service.getJob(once.id), undefined, 'the one-time job ran and deleted itself');
  });

  it('a restart after a one-time job ran does not run it again', async () => {
    const h = await start();
    const job = await h.service.add(remind({ kind: 'at', at: '1m' }, { deleteAfterRun: false }), ADD);
    await h.clock.advance(60_000);
    await h.service.idle();
    h.clock.set(T0 + 3_600_000);
    await h.restart();
    await h.service.idle();
    assert.equal(h.turns.calls.length, 1);
    assert.equal(h.service.getJob(job.id)?.enabled, false);
  });

  it('bounds the run log of a job', async () => {
    const h = await start();
    const log = new RunLog(h.stateDir);
    for (let i = 1; i <= 260; i++) {
      await log.append({ ts: i, jobId: 'job-a', action: 'finished', runId: `run-${i}`, status: 'ok', runAtMs: i, durationMs: 0 });
    }
    const entries = await log.read('job-a');
    assert.ok(entries.length <= MAX_RUN_LOG_ENTRIES + 50, `kept ${entries.length}`);
    assert.ok(entries.length >= MAX_RUN_LOG_ENTRIES);
    assert.equal(entries.at(-1)?.runId, 'run-260');
    assert.equal(entries[0].runId, `run-${261 - entries.length}`);
  });
});

describe('CronService runs', () => {
  it('never overlaps a job with itself', async () => {
    const h = await start();
    h.turns.autoFinish = undefined;
    const job = await h.service.add(remind({ kind: 'every', everyMs: 1_000 }), ADD);
    await h.clock.advance(1_000);
    assert.equal(h.turns.calls.length, 1);
    await h.clock.advance(10_000);
    assert.equal(h.turns.calls.length, 1, 'slots during the run do not start a second one');
    assert.deepEqual(h.service.run(job.id), { ok: true, ran: false, reason: 'already-running' });
    assert.equal(h.service.getJob(job.id)?.state.runningAtMs, T0 + 1_000);
    h.turns.calls[0].finish();
    await h.service.idle();
    await h.clock.advance(1_000);
    assert.equal(h.turns.calls.length, 2);
    h.turns.calls[1].finish();
    await h.service.idle();
  });

  it('runs at most agent.maxConcurrentRuns jobs at once; the rest wait their turn', async () => {
    const h = await start({ maxConcurrentRuns: 1 });
    h.turns.autoFinish = undefined;
    const a = await h.service.add(remind({ kind: 'at', at: '10s' }, { name: 'a' }), ADD);
    await h.service.add(remind({ kind: 'at', at: '10s' }, { name: 'b' }), ADD);
    await h.clock.advance(10_000);
    assert.equal(h.turns.calls.length, 1);
    await h.clock.advance(60_000);
    assert.equal(h.turns.calls.length, 1);
    assert.equal(h.turns.calls[0].runId !== undefined, true);
    assert.equal(h.events.find((event) => event.action === 'started')?.jobId, a.id);
    h.turns.calls[0].finish();
    await settle(h);
    assert.equal(h.turns.calls.length, 2);
    h.turns.calls[1].finish();
    await h.service.idle();
  });

  it('cron.run queues a run now and answers with its runId; mode due refuses a job not due', async () => {
    const h = await start();
    const job = await h.service.add(remind({ kind: 'every', everyMs: 3_600_000 }), ADD);
    assert.deepEqual(h.service.run(job.id, 'due'), { ok: true, ran: false, reason: 'not-due' });
    const result = h.service.run(job.id);
    assert.ok('enqueued' in result && result.enqueued);
    await h.service.idle();
    await flush();
    const runs = await h.service.runs({ jobId: job.id, runId: result.runId });
    assert.equal(runs.total, 1);
    // A manual run keeps the job's cadence.
    assert.equal(h.service.getJob(job.id)?.state.nextRunAtMs, T0 + 3_600_000);
    assert.throws(() => h.service.run('no-such-job'), /unknown cron job id: no-such-job/);
  });

  it('removing a job during its run lets the run end and keeps the job gone', async () => {
    const h = await start();
    h.turns.autoFinish = undefined;
    const job = await h.service.add(remind({ kind: 'every', everyMs: 5_000 }), ADD);
    await h.clock.advance(5_000);
    assert.equal(h.turns.calls.length, 1);
    assert.deepEqual(await h.service.remove(job.id), { ok: true, removed: true });
    assert.deepEqual(await storedJobs(h), []);
    h.turns.calls[0].finish({ text: 'late reply' });
    await h.service.idle();
    await flush();
    assert.deepEqual(actionsOf(h.events, job.id), ['added', 'started', 'removed', 'finished']);
    assert.equal(h.events.at(-1)?.summary, 'late reply');
    assert.deepEqual(await storedJobs(h), []);
    assert.equal((await h.service.runs({ jobId: job.id })).total, 0);
    await h.clock.advance(60_000);
    assert.equal(h.turns.calls.length, 1);
    assert.deepEqual(await h.service.remove(job.id), { ok: true, removed: false });
  });

  it('backs a failing recurring job off, and resumes its cadence after a success', async () => {
    const h = await start();
    h.turns.autoFinish = { status: 'error', text: '', error: 'rate limited' };
    const job = await h.service.add(remind({ kind: 'every', everyMs: 1_000 }), ADD);
    await h.clock.advance(1_000);
    assert.equal(h.service.getJob(job.id)?.state.nextRunAtMs, T0 + 1_000 + 30_000, 'first failure: 30 s');
    await h.clock.advance(30_000);
    assert.equal(h.service.getJob(job.id)?.state.nextRunAtMs, T0 + 31_000 + 60_000, 'second failure: 1 min');
    assert.equal(h.service.getJob(job.id)?.state.consecutiveErrors, 2);
    h.turns.autoFinish = { status: 'ok', text: 'fine' };
    await h.clock.advance(60_000);
    assert.equal(h.service.getJob(job.id)?.state.consecutiveErrors, 0);
    assert.equal(h.service.getJob(job.id)?.state.nextRunAtMs, T0 + 92_000);
    assert.equal(h.turns.calls.length, 3);
  });

  it('isolated jobs start a fresh session each run and announce the reply to the main session', async () => {
    const h = await start();
    const job = await h.service.add(remind({ kind: 'every', everyMs: 1_000 }), ADD);
    assert.deepEqual(job.delivery, { mode: 'announce' });
    assert.equal(job.sessionTarget, 'isolated');
    await h.clock.advance(1_000);
    await h.service.idle();
    await flush();
    assert.deepEqual(h.turns.resets, [`agent:main:cron:${job.id}`]);
    assert.deepEqual(h.turns.posted, [{ sessionKey: MAIN, text: 'done' }]);
    const [entry] = (await h.service.runs({ jobId: job.id })).entries;
    assert.equal(entry.deliveryStatus, 'delivered');
    // A silent reply is not delivered.
    h.turns.autoFinish = { status: 'ok', text: 'NO_REPLY' };
    await h.clock.advance(1_000);
    await h.service.idle();
    assert.equal(h.turns.posted.length, 1);
  });

  it('delivers through a channel target when one is plugged in', async () => {
    const sent: { to: string; text: string }[] = [];
    const h = await start({ targets: [{ channel: 'telegram', deliver: async (message) => void sent.push({ to: message.to, text: message.text }) }] });
    await h.service.add(remind({ kind: 'at', at: '5s' }, { delivery: { mode: 'announce', channel: 'telegram', to: '-100123' } }), ADD);
    await h.clock.advance(5_000);
    await h.service.idle();
    assert.deepEqual(sent, [{ to: '-100123', text: 'done' }]);
    assert.deepEqual(h.turns.posted, []);
  });
});

describe('CronService input', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['an invalid cron expression', remind({ kind: 'cron', expr: '61 * * * *' }), 'schedule.expr'],
    ['a cron expression with 4 fields', remind({ kind: 'cron', expr: '* * * *' }), 'schedule.expr'],
    ['an unknown time zone', remind({ kind: 'cron', expr: '0 9 * * *', tz: 'Mars/Olympus' }), 'schedule.tz'],
    ['a past at', remind({ kind: 'at', at: '2020-01-01T00:00:00Z' }), 'schedule.at'],
    ['an unreadable at', remind({ kind: 'at', at: 'tomorrow-ish' }), 'schedule.at'],
    ['an every of zero', remind({ kind: 'every', everyMs: 0 }), 'schedule.everyMs'],
    ['a missing payload', { schedule: { kind: 'every', everyMs: 1000 } }, 'payload'],
    ['an empty message', remind({ kind: 'every', everyMs: 1000 }, { payload: { kind: 'agentTurn', message: '  ' } }), 'payload.message'],
    ['an unknown session', remind({ kind: 'every', everyMs: 1000 }, { sessionTarget: 'session:nobody-here' }), 'sessionTarget'],
    ['a malformed session target', remind({ kind: 'every', everyMs: 1000 }, { sessionTarget: 'elsewhere' }), 'sessionTarget'],
    ['an unknown channel', remind({ kind: 'every', everyMs: 1000 }, { delivery: { mode: 'announce', channel: 'telegram', to: '1' } }), 'delivery.channel'],
    ['webhook delivery', remind({ kind: 'every', everyMs: 1000 }, { delivery: { mode: 'webhook', to: 'https://x.invalid' } }), 'delivery.mode'],
    ['another agent', remind({ kind: 'every', everyMs: 1000 }, { agentId: 'ops' }), 'agentId'],
  ];

  it('refuses bad input naming the field, and never touches the job file', async () => {
    const h = await start();
    await h.service.add(remind({ kind: 'every', everyMs: 60_000 }), ADD);
    const before = await readFile(jobsFilePath(h.stateDir), 'utf8');
    for (const [what, input, field] of cases) {
      await assert.rejects(h.service.add(input, ADD), (error: unknown) => {
        assert.ok(error instanceof GatewayError, what);
        assert.equal(error.code, 'INVALID_REQUEST', what);
        assert.equal(error.details?.field, field, `${what}: ${error.message}`);
        assert.ok(error.message.startsWith(`invalid cron.add params: ${field}`), `${what}: ${error.message}`);
        return true;
      });
    }
    assert.equal(await readFile(jobsFilePath(h.stateDir), 'utf8'), before);
    assert.equal(h.service.list({ includeDisabled: true }).total, 1);
  });

  it('refuses a bad patch naming the field and keeps the job as it was', async () => {
    const h = await start();
    const job = await h.service.add(remind({ kind: 'every', everyMs: 60_000 }), ADD);
    const before = await readFile(jobsFilePath(h.stateDir), 'utf8');
    await assert.rejects(h.service.update(job.id, { schedule: { kind: 'cron', expr: 'nope' } }, { label: 'invalid cron.update params' }), /patch\.schedule\.expr/);
    assert.equal(await readFile(jobsFilePath(h.stateDir), 'utf8'), before);
    const updated = await h.service.update(job.id, { enabled: false, payload: { message: 'Changed' } }, { label: 'x' });
    assert.equal(updated.enabled, false);
    assert.deepEqual(updated.payload, { kind: 'agentTurn', message: 'Changed' });
    assert.equal(updated.state.nextRunAtMs, undefined);
  });

  it('accepts an existing session key and the current session of a tool call', async () => {
    const h = await start();
    h.turns.sessions.add('agent:main:work');
    const job = await h.service.add(remind({ kind: 'every', everyMs: 1000 }, { sessionTarget: 'session:work' }), ADD);
    assert.equal(job.sessionTarget, 'session:agent:main:work');
    assert.equal(job.delivery, undefined);
    const current = await h.service.add(remind({ kind: 'at', at: '20m' }, { sessionTarget: 'current' }), { label: 'x', currentSessionKey: 'agent:main:work' });
    assert.equal(current.sessionTarget, 'session:agent:main:work');
    await assert.rejects(h.service.add(remind({ kind: 'at', at: '20m' }, { sessionTarget: 'current' }), ADD), /sessionTarget "current" needs a calling session/);
  });
});
