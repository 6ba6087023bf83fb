import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { delay, startHarness, TEST_TOKEN, waitUntil, type Harness } from '../../helpers/openclaw-channel-harness.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { rawUpgrade } from '../../helpers/raw-upgrade.js';

const TICK_MS = 150;

describe('keepalive', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ options: { tickIntervalMs: TICK_MS } });
  });
  after(() => h.close());

  it('sends tick {ts} with seq to an idle authenticated socket every interval', async () => {
    const client = await h.connected({ scopes: [] });
    const started = Date.now();
    const first = await client.nextEvent('tick', TICK_MS * 3);
    const second = await client.nextEvent('tick', TICK_MS * 3);
    assert.equal(typeof first.payload.ts, 'number');
    assert.ok(Math.abs(first.payload.ts - Date.now()) < 5000);
    assert.equal(second.seq, first.seq! + 1);
    assert.ok(Date.now() - started < TICK_MS * 4);
    assert.deepEqual(client.seqErrors, []);
  });

  it('sends no tick before connect', async () => {
    const client = await h.open();
    await client.challenge();
    await delay(TICK_MS * 2.5);
    assert.equal(client.events.length, 0);
  });

  it('pings every socket and keeps a peer that answers', async () => {
    const client = await h.connected();
    let pings = 0;
    client.ws.on('ping', () => pings++);
    await delay(TICK_MS * 4);
    assert.ok(pings >= 2, `pings: ${pings}`);
    assert.equal(client.closeInfo, undefined);
  });

  it('terminates a peer that stops answering pings within 2 intervals', async () => {
    const silent = await h.connected({}, { autoPong: false });
    const started = Date.now();
    const closed = await silent.waitClosed(TICK_MS * 2 + 1000);
    assert.equal(closed.code, 1006, 'terminated without a close frame');
    assert.ok(Date.now() - started <= TICK_MS * 2 + 1000);
  });

  it('terminates a silent unauthenticated raw socket too', async () => {
    const res = await rawUpgrade(h.port);
    const socket = res.socket!;
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('data', () => {});
    await Promise.race([closed, delay(TICK_MS * 3 + 1000).then(() => assert.fail('raw socket not terminated'))]);
  });

  it('stops its timer when the last connection leaves', async () => {
    await Promise.all(h.clients.map((client) => client.close()));
    await waitUntil(() => h.channel.stats().connections === 0, 3000, 'connections closed');
    assert.equal(h.channel.stats().timers, 0);
    assert.equal(h.channel.stats().sendErrors, 0);
  });
});

describe('shutdown', () => {
  for (const [reason, code] of [
    ['shutdown', 1012],
    ['restart', 1012],
  ] as const) {
    it(`sends shutdown {reason} to authenticated sockets, then closes ${code}`, async () => {
      const h = await startHarness();
      try {
        const authed = await h.connected({ scopes: [] });
        const pending = await h.open();
        await pending.challenge();
        await h.channel.shutdown(reason);
        const event = authed.events.find((e) => e.event === 'shutdown');
        assert.ok(event, 'shutdown event');
        assert.equal(event.payload.reason, reason);
        assert.ok('restartExpectedMs' in event.payload);
        assert.equal(event.seq, 1);
        assert.equal((await authed.waitClosed()).code, code);
        assert.equal((await pending.waitClosed()).code, code);
        assert.equal(pending.events.length, 0);
        assert.equal(h.channel.stats().connections, 0);
        await assert.rejects(ProtocolClient.open(h.url), (error: Error & { statusCode?: number }) => error.statusCode === 503);
      } finally {
        await h.close();
      }
    });
  }

  it('close() drops every socket and leaves nothing armed', async () => {
    const h = await startHarness();
    const client = await h.connected();
    await h.open();
    await h.channel.close();
    assert.equal((await client.waitClosed()).code, 1006);
    const stats = h.channel.stats();
    assert.equal(stats.connections, 0);
    assert.equal(stats.timers, 0);
    assert.equal(stats.busSubscriptions, 0);
    assert.equal(h.bus.subscriberCount, 0);
    await h.close();
  });

  it('gives no hello-ok to a connect that races the shutdown', async () => {
    const h = await startHarness();
    try {
      const client = await h.open();
      await client.challenge();
      // Shutdown closes pending sockets; a connect racing it gets the retryable refusal or the close.
      const shutdown = h.channel.shutdown('shutdown');
      client.sendRaw(JSON.stringify({ type: 'req', id: 'c', method: 'connect', params: { token: TEST_TOKEN } }));
      await shutdown;
      assert.equal((await client.waitClosed()).code, 1012);
      assert.equal(client.frames.some((f) => f.type === 'res' && f.ok === true), false);
    } finally {
      await h.close();
    }
  });
});
