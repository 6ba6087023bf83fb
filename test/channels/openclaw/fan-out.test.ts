import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import type { AgentEvent } from '../../../src/agent/types.js';
import type { MethodTable, WireEvent } from '../../../src/channels/openclaw/method-types.js';
import { deltaEvent, delay, startHarness, testMapEvent, waitUntil, type Harness } from '../../helpers/openclaw-channel-harness.js';
import type { ProtocolClient } from '../../helpers/protocol-client.js';

const KEY = 'agent:main:main';

const subscribeMethods: MethodTable = {
  'sessions.subscribe': {
    params: v.object({}),
    scope: 'operator.read',
    handler: (_p, ctx) => (ctx.setSessionsSubscribed(true), { subscribed: true }),
  },
  'sessions.messages.subscribe': {
    params: v.object({ key: v.string() }),
    scope: 'operator.read',
    handler: (p, ctx) => (ctx.setMessagesSubscribed(p.key, true), { subscribed: true, key: p.key }),
  },
  'chat.history': {
    params: v.object({ sessionKey: v.string() }),
    scope: 'operator.read',
    handler: (p, ctx) => (ctx.watchSession(p.sessionKey), { sessionKey: p.sessionKey, messages: [] }),
  },
};

function message(text: string) {
  return { id: text, role: 'user' as const, content: [{ type: 'text' as const, text }], timestamp: Date.now() };
}

async function waitForEvents(client: ProtocolClient, count: number, timeoutMs = 5000): Promise<void> {
  await waitUntil(() => client.events.filter((e) => e.event !== 'tick').length >= count, timeoutMs, `${count} events`);
}

describe('fan-out', () => {
  let h: Harness;
  let serialisations = 0;
  /** Wraps the test mapper so every chat payload counts its serialisations. */
  function countingMap(event: AgentEvent): WireEvent[] {
    return testMapEvent(event).map((wire) => {
      const payload = wire.payload as Record<string, unknown>;
      return {
        ...wire,
        payload: {
          toJSON() {
            serialisations++;
            return payload;
          },
        },
      };
    });
  }
  before(async () => {
    h = await startHarness({ methods: subscribeMethods, mapEvent: countingMap });
  });
  after(() => h.close());

  it('delivers every event to 3 connections with per-connection seq from 1, serialised once', async () => {
    const clients = [await h.connected(), await h.connected(), await h.connected()];
    // A socket that never authenticates, watching while the others receive.
    const stranger = await h.open();
    await stranger.challenge();
    serialisations = 0;
    const total = 50;
    for (let i = 0; i < total; i++) h.bus.publish(deltaEvent(KEY, `part ${i} `));
    for (const client of clients) await waitForEvents(client, total);
    assert.equal(serialisations, total, 'one serialisation per event, not per connection');
    for (const client of clients) {
      assert.deepEqual(client.seqErrors, []);
      assert.deepEqual(
        client.events.map((e) => e.seq),
        Array.from({ length: total }, (_, i) => i + 1),
      );
      assert.deepEqual(
        client.events.map((e) => e.payload.deltaText),
        Array.from({ length: total }, (_, i) => `part ${i} `),
      );
    }
    await delay(20);
    assert.equal(stranger.events.length, 0);
    assert.equal(stranger.frames.length, 1, 'only the challenge');
  });

  it('numbers events per connection, not globally', async () => {
    const early = await h.connected();
    h.bus.publish(deltaEvent(KEY, 'one'));
    await waitForEvents(early, 1);
    const late = await h.connected();
    h.bus.publish(deltaEvent(KEY, 'two'));
    await waitForEvents(early, 2);
    await waitForEvents(late, 1);
    assert.equal(early.events.at(-1)!.seq, 2);
    assert.equal(late.events.at(-1)!.seq, 1);
    assert.equal(late.events.at(-1)!.payload.deltaText, 'two');
  });

  it('sends nothing of a run to a connection without read scope', async () => {
    const blind = await h.connected({ scopes: [] });
    const reader = await h.connected({ scopes: ['operator.read'] });
    h.bus.publish(deltaEvent(KEY, 'secret text'));
    await waitForEvents(reader, 1);
    await delay(20);
    assert.equal(blind.events.length, 0);
  });

  it('sends sessions.changed only to sessions.subscribe sockets', async () => {
    const subscribed = await h.connected();
    const other = await h.connected();
    assert.equal((await subscribed.request('sessions.subscribe')).ok, true);
    h.bus.publish({ type: 'session.changed', sessionKey: KEY, reason: 'patched' });
    h.bus.publish(deltaEvent(KEY, 'marker'));
    await waitForEvents(subscribed, 2);
    await waitForEvents(other, 1);
    assert.deepEqual(subscribed.events.map((e) => e.event), ['sessions.changed', 'chat']);
    assert.deepEqual(other.events.map((e) => e.event), ['chat']);
  });

  it('sends session.message to all-session subscribers and to subscribers of that key only', async () => {
    const all = await h.connected();
    const keyed = await h.connected();
    const otherKey = await h.connected();
    const none = await h.connected();
    await all.request('sessions.subscribe');
    await keyed.request('sessions.messages.subscribe', { key: 'agent:main:a' });
    await otherKey.request('sessions.messages.subscribe', { key: 'agent:main:b' });
    h.bus.publish({ type: 'session.message', sessionKey: 'agent:main:a', message: message('hello a') });
    h.bus.publish(deltaEvent(KEY, 'marker'));
    for (const client of [all, keyed, otherKey, none]) await waitForEvents(client, 1);
    await delay(20);
    assert.deepEqual(all.events.map((e) => e.event), ['session.message', 'chat']);
    assert.deepEqual(keyed.events.map((e) => e.event), ['session.message', 'chat']);
    assert.deepEqual(otherKey.events.map((e) => e.event), ['chat']);
    assert.deepEqual(none.events.map((e) => e.event), ['chat']);
  });

  it('holds exactly one bus subscription however many connections exist', () => {
    assert.equal(h.bus.subscriberCount, 1);
    assert.equal(h.channel.stats().busSubscriptions, 1);
  });

  it('writes nothing to sockets that dropped mid-stream', async () => {
    const keep = await h.connected();
    const droppers = [await h.connected(), await h.connected(), await h.connected()];
    for (let i = 0; i < 200; i++) {
      h.bus.publish(deltaEvent(KEY, `x${i}`));
      if (i === 50) droppers[0]!.ws.terminate();
      if (i === 100) droppers[1]!.ws.close();
      if (i === 150) droppers[2]!.ws.terminate();
      if (i % 10 === 0) await delay(1);
    }
    await waitForEvents(keep, 200);
    assert.deepEqual(keep.seqErrors, []);
    assert.equal(h.channel.stats().sendErrors, 0);
  });

  it('drops every per-connection record once the clients are gone', async () => {
    await Promise.all(h.clients.map((client) => client.close()));
    await waitUntil(() => h.channel.stats().connections === 0, 3000, 'all connections closed');
    const stats = h.channel.stats();
    assert.deepEqual(
      { connections: stats.connections, authenticated: stats.authenticated, pending: stats.pending, subscriptions: stats.subscriptions, timers: stats.timers, sendErrors: stats.sendErrors },
      { connections: 0, authenticated: 0, pending: 0, subscriptions: 0, timers: 0, sendErrors: 0 },
    );
    assert.equal(stats.busSubscriptions, 1);
  });

  it('gives the bus subscription back on close', async () => {
    const local = await startHarness();
    assert.equal(local.bus.subscriberCount, 1);
    await local.close();
    assert.equal(local.bus.subscriberCount, 0);
    assert.equal(local.channel.stats().busSubscriptions, 0);
  });
});

describe('slow consumer', () => {
  const MAX_BUFFERED = 1024 * 1024;
  let h: Harness;
  before(async () => {
    h = await startHarness({ options: { maxBufferedBytes: MAX_BUFFERED } });
  });
  after(() => h.close());

  it('closes a reader that stopped reading with 1013 while others receive every event in order', async () => {
    const stalled = await h.connected();
    const readers = [await h.connected(), await h.connected()];
    stalled.ws.pause();
    const chunk = 'y'.repeat(64 * 1024);
    let published = 0;
    // Push until the stalled socket's buffers (kernel + user space) overflow; bounded.
    while (h.channel.stats().authenticated === 3 && published < 2000) {
      h.bus.publish(deltaEvent(KEY, `${published}:${chunk}`));
      published++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(h.channel.stats().authenticated, 2, `stalled reader still connected after ${published} events`);
    for (let i = 0; i < 20; i++, published++) h.bus.publish(deltaEvent(KEY, `${published}:after`));
    for (const reader of readers) {
      await waitForEvents(reader, published, 10_000);
      assert.deepEqual(reader.seqErrors, []);
      assert.deepEqual(
        reader.events.map((e) => Number(String(e.payload.deltaText).split(':')[0])),
        Array.from({ length: published }, (_, i) => i),
      );
      assert.equal(reader.closeInfo, undefined);
    }
    stalled.ws.resume();
    assert.deepEqual(await stalled.waitClosed(5000), { code: 1013, reason: 'slow consumer' });
    assert.ok(stalled.events.length < published);
    assert.equal(h.channel.stats().sendErrors, 0);
  });
});
