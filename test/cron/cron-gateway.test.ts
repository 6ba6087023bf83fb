import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway } from '../helpers/start-gateway.js';
import { okPayload, REPLY_TEXT, startStack, type Stack } from '../channels/openclaw/e2e-setup.js';
import type { AnyFrame, EventFrame } from '../helpers/protocol-client.js';

const MAIN = 'agent:main:main';
const WAIT_MS = 5_000;

const cronEvent = (jobId: string, action: string) => (f: AnyFrame) => f.type === 'event' && f.event === 'cron' && f.payload?.jobId === jobId && f.payload?.action === action;

describe('cron.* over the OpenClaw protocol', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.close();
  });

  it('loads the scheduler only when first used', async () => {
    assert.equal(stack.gateway.pincer.cronStarted(), false);
    const client = await stack.client();
    const hello = client.frames.find((f) => f.type === 'res' && f.payload?.type === 'hello-ok') as AnyFrame;
    for (const method of ['cron.list', 'cron.status', 'cron.add', 'cron.update', 'cron.remove', 'cron.run', 'cron.runs', 'last-heartbeat']) {
      assert.ok(hello.payload.features.methods.includes(method), method);
    }
    assert.ok(hello.payload.features.events.includes('cron'));
    const status = okPayload(await client.request('cron.status', {}));
    assert.equal(status.enabled, true);
    assert.equal(status.jobs, 0);
    assert.equal(status.nextWakeAtMs, null);
    assert.equal(stack.gateway.pincer.cronStarted(), true);
  });

  it('runs a one-time main-session job and its reply streams to a watching client', async () => {
    const client = await stack.client();
    const at = new Date(Date.now() + 300).toISOString();
    const job = okPayload(
      await client.request('cron.add', { name: 'stretch', schedule: { kind: 'at', at }, sessionTarget: 'main', payload: { kind: 'agentTurn', message: 'Remind me to stretch' } }),
    );
    assert.equal(job.schedule.at, at);
    assert.equal(job.deleteAfterRun, true);
    await client.waitFor(cronEvent(job.id, 'added'), WAIT_MS);
    const started = (await client.waitFor(cronEvent(job.id, 'started'), WAIT_MS)) as EventFrame;
    const runId = started.payload.runId as string;
    const final = (await client.waitFor((f) => f.event === 'chat' && f.payload?.runId === runId && f.payload?.state === 'final', WAIT_MS)) as EventFrame;
    assert.equal(final.payload.sessionKey, MAIN);
    assert.equal(final.payload.message.content[0].text, REPLY_TEXT);
    const finished = (await client.waitFor(cronEvent(job.id, 'finished'), WAIT_MS)) as EventFrame;
    assert.equal(finished.payload.status, 'ok');
    assert.equal(finished.payload.summary, REPLY_TEXT);
    await client.waitFor(cronEvent(job.id, 'removed'), WAIT_MS);
    const history = okPayload(await client.request('chat.history', { sessionKey: MAIN }));
    assert.deepEqual(
      history.messages.map((m: AnyFrame) => m.role),
      ['user', 'assistant'],
    );
    assert.equal(history.messages[0].content[0].text, 'Remind me to stretch');
    const list = okPayload(await client.request('cron.list', { includeDisabled: true }));
    assert.equal(list.total, 0);
  });

  it('announces an isolated job to the main session, live, and logs the run', async () => {
    const client = await stack.client();
    okPayload(await client.request('sessions.messages.subscribe', { key: MAIN }));
    const job = okPayload(
      await client.request('cron.add', { name: 'digest', schedule: { kind: 'every', everyMs: 400 }, payload: { kind: 'agentTurn', message: 'Summarise the inbox' } }),
    );
    assert.equal(job.sessionTarget, 'isolated');
    assert.deepEqual(job.delivery, { mode: 'announce' });
    const finished = (await client.waitFor(cronEvent(job.id, 'finished'), WAIT_MS)) as EventFrame;
    assert.equal(finished.payload.deliveryStatus, 'delivered');
    assert.equal(finished.payload.sessionKey, `agent:main:cron:${job.id}`);
    okPayload(await client.request('cron.remove', { id: job.id }));
    const posted = (await client.waitFor(
      (f) => f.event === 'session.message' && f.payload?.sessionKey === MAIN && f.payload?.message?.content?.[0]?.text === REPLY_TEXT && f.payload?.message?.model === 'scheduler',
      WAIT_MS,
    )) as EventFrame;
    assert.equal(posted.payload.message.role, 'assistant');
    const runs = okPayload(await client.request('cron.runs', { scope: 'all' }));
    assert.equal(runs.entries.length, 0, 'a removed job takes its run log with it');
  });

  it('keeps run history for a job and answers cron.run with a runId', async () => {
    const client = await stack.client();
    const job = okPayload(
      await client.request('cron.add', { name: 'manual', schedule: { kind: 'cron', expr: '0 9 * * *', tz: 'Europe/Vienna' }, payload: { kind: 'agentTurn', message: 'Morning brief' }, delivery: { mode: 'none' } }),
    );
    const run = okPayload(await client.request('cron.run', { id: job.id }));
    assert.equal(run.enqueued, true);
    const finished = (await client.waitFor((f) => cronEvent(job.id, 'finished')(f) && f.payload.runId === run.runId, WAIT_MS)) as EventFrame;
    assert.equal(finished.payload.deliveryStatus, 'not-requested');
    const runs = okPayload(await client.request('cron.runs', { id: job.id, runId: run.runId }));
    assert.equal(runs.total, 1);
    assert.equal(runs.entries[0].summary, REPLY_TEXT);
    assert.equal(runs.entries[0].jobName, 'manual');
    const compact = okPayload(await client.request('cron.list', { compact: true, includeDisabled: true }));
    assert.equal(compact.jobs[0].scheduleKind, 'cron');
    assert.equal(compact.jobs[0].lastRunStatus, 'ok');
    okPayload(await client.request('cron.remove', { jobId: job.id }));
  });

  it('refuses bad input with the field named, and writes need operator.admin', async () => {
    const client = await stack.client();
    const bad = await client.request('cron.add', { name: 'x', schedule: { kind: 'cron', expr: 'every monday' }, payload: { kind: 'agentTurn', message: 'hi' } });
    assert.equal(bad.ok, false);
    assert.equal(bad.error?.code, 'INVALID_REQUEST');
    assert.match(bad.error?.message ?? '', /^invalid cron\.add params: schedule\.expr /);
    const past = await client.request('cron.add', { name: 'x', schedule: { kind: 'at', at: '2001-01-01T00:00:00Z' }, payload: { kind: 'agentTurn', message: 'hi' } });
    assert.match(past.error?.message ?? '', /schedule\.at is in the past/);
    const missing = await client.request('cron.update', { id: 'nope', patch: {} });
    assert.match(missing.error?.message ?? '', /unknown cron job id: nope/);
    const reader = await stack.client({ scopes: ['operator.read'] });
    const denied = await reader.request('cron.add', { name: 'x', schedule: { kind: 'every', everyMs: 1000 }, payload: { kind: 'agentTurn', message: 'hi' } });
    assert.equal(denied.error?.code, 'FORBIDDEN');
    okPayload(await reader.request('cron.list', {}));
  });
});

describe('the cron tool', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.close();
  });

  it('lets the model set a reminder in the chat it was asked from, and names bad fields back to it', async () => {
    const client = await stack.client();
    const sessionKey = 'agent:main:tea';
    stack.fake.enqueue(
      { toolCalls: [{ id: 'c1', name: 'cron', arguments: { action: 'add', job: { schedule: { kind: 'at', at: '20m' }, payload: { kind: 'agentTurn', message: 'Remind the user: tea' } } } }] },
      { toolCalls: [{ id: 'c2', name: 'cron', arguments: { action: 'add', job: { schedule: { kind: 'cron', expr: '99 * * * *' }, payload: { kind: 'agentTurn', message: 'x' } } } }] },
      { text: 'Reminder set.' },
    );
    const before = Date.now();
    okPayload(await client.request('chat.send', { sessionKey, message: 'remind me in 20 minutes to make tea', idempotencyKey: 'tool-run' }));
    await client.waitFor((f) => f.event === 'chat' && f.payload?.runId === 'tool-run' && f.payload?.state === 'final', WAIT_MS);
    const tools = stack.fake.requests[0].body.tools as { function: { name: string } }[];
    assert.ok(tools.some((tool) => tool.function.name === 'cron'), 'the cron tool is offered by default');
    const list = okPayload(await client.request('cron.list', {}));
    assert.equal(list.total, 1);
    const [job] = list.jobs;
    assert.equal(job.sessionTarget, `session:${sessionKey}`);
    assert.equal(job.payload.message, 'Remind the user: tea');
    const at = Date.parse(job.schedule.at);
    assert.ok(at >= before + 20 * 60_000 && at <= Date.now() + 20 * 60_000, job.schedule.at);
    const history = okPayload(await client.request('chat.history', { sessionKey }));
    const results = history.messages.filter((m: AnyFrame) => m.role === 'toolResult');
    assert.equal(results.length, 2);
    assert.equal(results[0].isError, false);
    assert.equal(results[1].isError, true);
    assert.match(results[1].content[0].text, /schedule\.expr/);
    okPayload(await client.request('cron.remove', { id: job.id }));
  });
});

describe('the scheduler at start-up', () => {
  it('starts at once when the job file exists, and the jobs survive the restart', async () => {
    const first = await startGateway({ token: 'restart-token' });
    const stateDir = first.stateDir;
    let jobId: string;
    try {
      const { ProtocolClient } = await import('../helpers/protocol-client.js');
      const client = await ProtocolClient.open(first.wsUrl);
      okPayload(await client.connect({ token: first.token }));
      jobId = okPayload(await client.request('cron.add', { name: 'later', schedule: { kind: 'every', everyMs: 3_600_000 }, payload: { kind: 'agentTurn', message: 'hi' } })).id;
      await client.close();
      await first.pincer.close();
      const second = await startGateway({ token: 'restart-token', stateDir });
      try {
        assert.equal(second.pincer.cronStarted(), true);
        const again = await ProtocolClient.open(second.wsUrl);
        okPayload(await again.connect({ token: second.token }));
        const list = okPayload(await again.request('cron.list', {}));
        assert.deepEqual(list.jobs.map((job: AnyFrame) => job.id), [jobId]);
        await again.close();
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });
});
