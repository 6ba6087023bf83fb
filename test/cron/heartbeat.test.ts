import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { HeartbeatEventPayload, SchedulerEvent } from '../../src/bus/scheduler-events.js';
import type { HeartbeatConfig } from '../../src/config/schema.js';
import { HEARTBEAT_SESSION_KEY, startHeartbeat, stripAck, withinActiveHours, type Heartbeat } from '../../src/cron/heartbeat.js';
import { FakeClock, flush } from '../helpers/fake-clock.js';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { ProtocolClient, type AnyFrame, type EventFrame } from '../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { MAIN, ScriptedTurns, T0 } from './cron-harness.js';

describe('heartbeat', () => {
  let workspace: string;
  let beat: Heartbeat | undefined;
  before(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'pincer-heartbeat-'));
  });
  after(async () => {
    await rm(workspace, { recursive: true, force: true });
  });
  afterEach(() => beat?.stop());

  function start(config: Partial<HeartbeatConfig> = {}, now = T0) {
    const clock = new FakeClock(now);
    const turns = new ScriptedTurns(clock);
    const events: HeartbeatEventPayload[] = [];
    beat = startHeartbeat({
      config: { everyMs: 60_000, ...config },
      workspaceDir: workspace,
      turns,
      mainSessionKey: MAIN,
      clock,
      publish: (event: SchedulerEvent) => {
        if (event.type === 'heartbeat') events.push(event.payload);
      },
    });
    return { clock, turns, events, heartbeat: beat };
  }

  it('beats every period with HEARTBEAT.md in the prompt, in its own session', async () => {
    await writeFile(join(workspace, 'HEARTBEAT.md'), '# Checklist\n- Is the build green?\n');
    const { clock, turns, events, heartbeat } = start();
    turns.autoFinish = { status: 'ok', text: 'HEARTBEAT_OK' };
    assert.equal(heartbeat.last(), null);
    await clock.advance(59_999);
    assert.equal(turns.calls.length, 0);
    await clock.advance(1);
    await waitUntil(() => events.length === 1);
    assert.equal(turns.calls.length, 1);
    assert.equal(turns.calls[0].sessionKey, HEARTBEAT_SESSION_KEY);
    assert.match(turns.calls[0].text, /- Is the build green\?/);
    await clock.advance(60_000);
    await waitUntil(() => events.length === 2);
    await clock.advance(60_000);
    await waitUntil(() => events.length === 3);
    assert.equal(turns.calls.length, 3);
    assert.deepEqual(events.map((event) => event.status), ['ok-token', 'ok-token', 'ok-token']);
    assert.deepEqual(turns.posted, [], 'acknowledgements are not delivered');
    assert.equal(heartbeat.last()?.status, 'ok-token');
  });

  it('delivers a reply with something to say to the main session', async () => {
    await writeFile(join(workspace, 'HEARTBEAT.md'), '- check the oven\n');
    const { turns, heartbeat } = start();
    turns.autoFinish = { status: 'ok', text: 'The oven is still on!' };
    const outcome = await heartbeat.beat();
    assert.equal(outcome.status, 'sent');
    assert.equal(outcome.to, MAIN);
    assert.equal(outcome.preview, 'The oven is still on!');
    assert.deepEqual(turns.posted, [{ sessionKey: MAIN, text: 'The oven is still on!' }]);
    assert.deepEqual(heartbeat.last(), outcome);
  });

  it('skips when HEARTBEAT.md holds nothing to check, outside active hours, and while a beat runs', async () => {
    await writeFile(join(workspace, 'HEARTBEAT.md'), '# Heartbeat\n\n<!-- add checks here -->\n- [ ]\n');
    const empty = start();
    assert.deepEqual(await empty.heartbeat.beat().then((e) => [e.status, e.reason]), ['skipped', 'empty-heartbeat-file']);
    assert.equal(empty.turns.calls.length, 0);
    beat?.stop();

    await writeFile(join(workspace, 'HEARTBEAT.md'), '- check mail\n');
    // 20:00 UTC is 22:00 in Vienna in June.
    const night = start({ activeHours: { start: '09:00', end: '17:00', timezone: 'Europe/Vienna' } }, Date.parse('2026-06-10T20:00:00Z'));
    assert.deepEqual(await night.heartbeat.beat().then((e) => [e.status, e.reason]), ['skipped', 'quiet-hours']);
    beat?.stop();

    const busy = start();
    busy.turns.autoFinish = undefined;
    const first = busy.heartbeat.beat();
    await waitUntil(() => busy.turns.calls.length === 1);
    assert.deepEqual(await busy.heartbeat.beat().then((e) => [e.status, e.reason]), ['skipped', 'in-flight']);
    busy.turns.calls[0].finish({ text: 'HEARTBEAT_OK' });
    assert.equal((await first).status, 'ok-token');
  });

  it('recognises the acknowledgement token at the start or end only', () => {
    assert.deepEqual(stripAck('HEARTBEAT_OK'), { acknowledged: true, text: '' });
    assert.deepEqual(stripAck('  HEARTBEAT_OK. All quiet.'), { acknowledged: true, text: 'All quiet' });
    assert.deepEqual(stripAck('Nothing new. HEARTBEAT_OK'), { acknowledged: true, text: 'Nothing new' });
    assert.deepEqual(stripAck('NO_REPLY'), { acknowledged: true, text: '' });
    assert.equal(stripAck('The HEARTBEAT_OK token is in the middle').acknowledged, false);
    assert.equal(stripAck(`HEARTBEAT_OK ${'x'.repeat(301)}`).acknowledged, false);
  });

  it('active hours: start inclusive, end exclusive, across midnight, and never when equal', () => {
    const at = (iso: string) => Date.parse(iso);
    const day = { start: '09:00', end: '17:00', timezone: 'UTC' };
    assert.equal(withinActiveHours(day, at('2026-06-10T09:00:00Z')), true);
    assert.equal(withinActiveHours(day, at('2026-06-10T16:59:00Z')), true);
    assert.equal(withinActiveHours(day, at('2026-06-10T17:00:00Z')), false);
    const night = { start: '22:00', end: '06:00', timezone: 'America/New_York' };
    assert.equal(withinActiveHours(night, at('2026-06-10T03:00:00Z')), true); // 23:00 in New York
    assert.equal(withinActiveHours(night, at('2026-06-10T15:00:00Z')), false); // 11:00
    assert.equal(withinActiveHours({ start: '00:00', end: '24:00' }, at('2026-06-10T23:59:00Z')), true);
    assert.equal(withinActiveHours({ start: '08:00', end: '08:00' }, at('2026-06-10T08:00:00Z')), false);
  });
});

describe('heartbeat in the gateway', () => {
  let fake: FakeModelServer;
  let gateway: StartedGateway;
  before(async () => {
    fake = await startFakeModelServer({ defaultReply: { text: 'HEARTBEAT_OK' } });
    gateway = await startGateway({
      overrides: {
        provider: { kind: 'openai', baseUrl: fake.url, apiKey: 'k', model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 },
        agent: { heartbeat: { every: '400ms' } },
      },
    });
    await writeFile(join(gateway.pincer.config.agent.workspaceDir, 'HEARTBEAT.md'), '- is the oven off?\n').catch(async () => {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(gateway.pincer.config.agent.workspaceDir, { recursive: true });
      await writeFile(join(gateway.pincer.config.agent.workspaceDir, 'HEARTBEAT.md'), '- is the oven off?\n');
    });
  });
  after(async () => {
    await gateway.close();
    await fake.close();
  });

  it('keeps acknowledgements out of the main session and streams an alert into it', async () => {
    const client = await ProtocolClient.open(gateway.wsUrl);
    try {
      const hello = await client.connect({ token: gateway.token });
      assert.ok(hello.payload.features.events.includes('heartbeat'));
      okOf(await client.request('sessions.messages.subscribe', { key: MAIN }));
      const ack = (await client.waitFor((f) => f.event === 'heartbeat' && f.payload?.status === 'ok-token', 5_000)) as EventFrame;
      assert.equal(ack.payload.indicatorType, 'ok');
      fake.setDefault({ text: 'The oven is still on!' });
      const sent = (await client.waitFor((f) => f.event === 'heartbeat' && f.payload?.status === 'sent', 5_000)) as EventFrame;
      assert.equal(sent.payload.preview, 'The oven is still on!');
      await client.waitFor((f) => f.event === 'session.message' && f.payload?.sessionKey === MAIN && f.payload?.message?.content?.[0]?.text === 'The oven is still on!', 5_000);
      const history = okOf(await client.request('chat.history', { sessionKey: MAIN }));
      assert.ok(history.messages.every((m: AnyFrame) => !JSON.stringify(m.content).includes('HEARTBEAT_OK')), 'no acknowledgement reached the main session');
      assert.ok(history.messages.every((m: AnyFrame) => m.role === 'assistant'), 'the heartbeat prompt stays in the heartbeat session');
      const last = okOf(await client.request('last-heartbeat', {}));
      assert.ok(['sent', 'ok-token', 'skipped'].includes(last.status));
      assert.match(JSON.stringify(fake.requests.at(-1)?.body.messages), /is the oven off\?/);
    } finally {
      await client.close();
    }
  });
});

/** Poll `condition` (file reads are real I/O) for at most a second. */
async function waitUntil(condition: () => boolean, timeoutMs = 1_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 1 s');
    await flush();
  }
}

function okOf(res: { ok: boolean; payload?: any; error?: unknown }): any {
  if (!res.ok) throw new Error(`expected ok, got ${JSON.stringify(res.error)}`);
  return res.payload;
}
