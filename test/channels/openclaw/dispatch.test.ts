import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import type { MethodTable } from '../../../src/channels/openclaw/method-types.js';
import { GatewayError } from '../../../src/protocol/errors.js';
import { RequestBudget } from '../../../src/security/request-budget.js';
import { delay, startHarness, type Harness } from '../../helpers/openclaw-channel-harness.js';

function buildMethods(): MethodTable {
  return {
    'test.echo': { params: v.object({ value: v.optional(v.unknown()) }), scope: 'operator.read', handler: (params) => ({ echoed: params }) },
    'test.write': { params: v.object({}), scope: 'operator.write', handler: () => ({ wrote: true }) },
    'test.admin': { params: v.object({}), scope: 'operator.admin', handler: () => ({ admin: true }) },
    'test.typed': {
      params: v.object({ message: v.string(), count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))), nested: v.optional(v.object({ key: v.string() })) }),
      scope: 'operator.read',
      handler: (params) => params,
    },
    'test.crash': {
      params: v.object({}),
      scope: 'operator.read',
      handler: () => {
        throw new Error('database password is hunter2 at /var/lib/secret');
      },
    },
    'test.reject': { params: v.object({}), scope: 'operator.read', handler: async () => Promise.reject(new TypeError('boom inside')) },
    'test.gateway-error': {
      params: v.object({}),
      scope: 'operator.read',
      handler: () => {
        throw new GatewayError('INVALID_REQUEST', 'session not found: agent:main:x', { details: { code: 'SESSION_NOT_FOUND' } });
      },
    },
    'test.fatal': {
      params: v.object({}),
      scope: 'operator.read',
      handler: () => {
        throw new GatewayError('INVALID_REQUEST', 'go away', { closeCode: 1008 });
      },
    },
    'test.slow': { params: v.object({ ms: v.number() }), scope: 'operator.read', handler: async (params) => (await delay(params.ms), { slept: params.ms }) },
    'test.twice': {
      params: v.object({}),
      scope: 'operator.write',
      handler: (_params, ctx) => {
        setTimeout(() => ctx.sendExtraResponse({ status: 'ok', final: true }), 20);
        return { status: 'accepted' };
      },
    },
    'test.huge': { params: v.object({}), scope: 'operator.read', handler: () => ({ blob: 'x'.repeat(300 * 1024) }) },
    'test.void': { params: v.object({}), scope: 'operator.read', handler: () => undefined },
  };
}

describe('dispatch', () => {
  let h: Harness;
  const logged: string[] = [];
  before(async () => {
    h = await startHarness({
      methods: buildMethods(),
      options: { maxPayloadBytes: 256 * 1024 },
      logger: { debug() {}, info() {}, warn() {}, error: (message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`) },
    });
  });
  after(() => h.close());

  it('answers a known method with its payload and echoes the id verbatim', async () => {
    const client = await h.connected();
    const res = await client.request('test.echo', { value: [1, 'two'] }, { id: '1:6022119b-d966-4609-8d6a-9a35b577dbed' });
    assert.deepEqual(res, { type: 'res', id: '1:6022119b-d966-4609-8d6a-9a35b577dbed', ok: true, payload: { echoed: { value: [1, 'two'] } } });
  });

  it('treats missing params as {} and ignores unknown keys', async () => {
    const client = await h.connected();
    assert.deepEqual((await client.request('test.echo')).payload, { echoed: {} });
    assert.deepEqual((await client.request('test.echo', { junk: 1 })).payload, { echoed: {} });
    assert.equal((await client.request('test.void')).payload, null);
  });

  it('answers an unknown method with INVALID_REQUEST and keeps the socket open', async () => {
    const client = await h.connected();
    const res = await client.request('no.such.method', {});
    assert.deepEqual(res.error, { code: 'INVALID_REQUEST', message: 'unknown method: no.such.method' });
    assert.deepEqual((await client.request('constructor')).error?.message, 'unknown method: constructor');
    assert.deepEqual((await client.request('__proto__')).error?.message, 'unknown method: __proto__');
    assert.equal((await client.request('test.echo')).ok, true);
  });

  it('looks the method up before checking scopes', async () => {
    const client = await h.connected({ scopes: [] });
    assert.equal((await client.request('nope')).error?.message, 'unknown method: nope');
    const denied = await client.request('test.echo');
    assert.deepEqual(denied.error, {
      code: 'FORBIDDEN',
      message: 'missing scope: operator.read',
      details: { code: 'MISSING_SCOPE', missingScope: 'operator.read', requiredScopes: ['operator.read'] },
    });
  });

  it('applies admin ⊇ write ⊇ read', async () => {
    const admin = await h.connected({ scopes: ['operator.admin'] });
    for (const method of ['test.echo', 'test.write', 'test.admin']) assert.equal((await admin.request(method)).ok, true, method);
    const writer = await h.connected({ scopes: ['operator.write'] });
    assert.equal((await writer.request('test.echo')).ok, true);
    assert.equal((await writer.request('test.write')).ok, true);
    assert.equal((await writer.request('test.admin')).error?.message, 'missing scope: operator.admin');
    const reader = await h.connected({ scopes: ['operator.read', 'operator.approvals'] });
    assert.equal((await reader.request('test.write')).error?.code, 'FORBIDDEN');
  });

  it('words invalid params like OpenClaw (Ajv-style, first issue)', async () => {
    const client = await h.connected();
    const cases: [unknown, string][] = [
      [{}, "invalid test.typed params: must have required property 'message'"],
      [{ message: 5 }, 'invalid test.typed params: at /message: must be string'],
      [{ message: 'x', count: 1.5 }, 'invalid test.typed params: at /count: must be integer'],
      [{ message: 'x', count: 0 }, 'invalid test.typed params: at /count: must be >= 1'],
      [{ message: 'x', nested: {} }, "invalid test.typed params: at /nested: must have required property 'key'"],
    ];
    for (const [params, message] of cases) {
      const res = await client.request('test.typed', params);
      assert.deepEqual(res.error, { code: 'INVALID_REQUEST', message });
    }
  });

  it('answers malformed frames with a readable id, and drops unreadable ones keeping the socket open', async () => {
    const client = await h.connected();
    client.sendRaw(JSON.stringify({ type: 'req', id: 'no-method' }));
    const noMethod = await client.waitFor((f) => f.id === 'no-method');
    assert.equal(noMethod.error.code, 'INVALID_REQUEST');
    assert.equal(noMethod.error.message, "invalid request frame: must have required property 'method'");
    client.sendRaw(JSON.stringify({ type: 'req', id: 'arr', method: 'test.echo', params: [1] }));
    assert.equal((await client.waitFor((f) => f.id === 'arr')).error.message, 'invalid request frame: at /params: must be object');
    client.sendRaw(JSON.stringify({ type: 'event', id: 'ev', method: 'test.echo' }));
    assert.equal((await client.waitFor((f) => f.id === 'ev')).error.code, 'INVALID_REQUEST');
    assert.equal((await client.request('test.echo')).ok, true);

    const answeredBefore = client.frames.filter((f) => f.type === 'res').length;
    client.sendRaw(JSON.stringify({ type: 'req', id: 'x'.repeat(257), method: 'test.echo' }));
    client.sendRaw('not json at all');
    assert.equal((await client.request('test.echo')).ok, true, 'still open and answering');
    assert.equal(client.frames.filter((f) => f.type === 'res').length, answeredBefore + 1, 'no res for the unreadable frames');
    assert.equal(client.closeInfo, undefined);
  });

  it('answers "already connected" to a second connect', async () => {
    const client = await h.connected();
    const res = await client.request('connect', { minProtocol: 4, maxProtocol: 4 });
    assert.equal(res.error?.message, 'already connected');
    assert.equal((await client.request('test.echo')).ok, true);
  });

  it('passes GatewayError shapes through and hides everything else behind UNAVAILABLE', async () => {
    const client = await h.connected();
    const notFound = await client.request('test.gateway-error');
    assert.deepEqual(notFound.error, { code: 'INVALID_REQUEST', message: 'session not found: agent:main:x', details: { code: 'SESSION_NOT_FOUND' } });
    const crash = await client.request('test.crash');
    assert.deepEqual(crash.error, { code: 'UNAVAILABLE', message: 'internal error' });
    const rejected = await client.request('test.reject');
    assert.deepEqual(rejected.error, { code: 'UNAVAILABLE', message: 'internal error' });
    assert.ok(logged.some((line) => line.includes('hunter2') && line.includes('test.crash')), 'stack is logged server-side');
  });

  it('closes with the close code a GatewayError carries, after the error res', async () => {
    const client = await h.connected();
    const res = await client.request('test.fatal');
    assert.equal(res.error?.message, 'go away');
    assert.deepEqual(await client.waitClosed(), { code: 1008, reason: 'go away' });
  });

  it('answers concurrent requests independently, each exactly once', async () => {
    const client = await h.connected();
    const [slow, fast] = await Promise.all([client.request('test.slow', { ms: 50 }, { id: 's' }), client.request('test.slow', { ms: 1 }, { id: 'f' })]);
    assert.equal(slow.payload.slept, 50);
    assert.equal(fast.payload.slept, 1);
    await delay(30);
    assert.equal(client.responsesFor('s').length, 1);
    assert.equal(client.responsesFor('f').length, 1);
  });

  it('lets a method send an extra res with the same id through its context', async () => {
    const client = await h.connected();
    const first = await client.request('test.twice', {}, { id: 'two' });
    assert.equal(first.payload.status, 'accepted');
    await client.waitFor((f) => f.id === 'two' && f.payload?.final === true);
    assert.equal(client.responsesFor('two').length, 2);
  });

  it('never sends a res larger than maxPayload', async () => {
    const client = await h.connected();
    const res = await client.request('test.huge');
    assert.deepEqual(res.error, { code: 'UNAVAILABLE', message: 'response too large' });
  });

  it('closes 1009 on a frame above maxPayload after auth', async () => {
    const client = await h.connected();
    client.sendRaw(JSON.stringify({ type: 'req', id: 'big', method: 'test.echo', params: { value: 'x'.repeat(300 * 1024) } }));
    assert.equal((await client.waitClosed()).code, 1009);
  });

  it('closes 1008 "too many errors" after 100 consecutive errors, leaving other clients alone', async () => {
    const flooder = await h.connected();
    const bystander = await h.connected();
    for (let i = 0; i < 100; i++) flooder.sendRaw(JSON.stringify({ type: 'req', id: `e${i}`, method: 'no.such' }));
    assert.deepEqual(await flooder.waitClosed(), { code: 1008, reason: 'too many errors' });
    assert.equal(flooder.frames.filter((f) => f.type === 'res' && f.ok === false).length, 100);
    assert.equal((await bystander.request('test.echo')).ok, true);
  });

  it('resets the error streak on a success', async () => {
    const client = await h.connected();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 60; i++) client.sendRaw(JSON.stringify({ type: 'req', id: `r${round}-${i}`, method: 'no.such' }));
      assert.equal((await client.request('test.echo')).ok, true);
    }
    assert.equal(client.closeInfo, undefined);
  });

  it('keeps send errors at zero', () => {
    assert.equal(h.channel.stats().sendErrors, 0);
  });
});

describe('request rate limit', () => {
  it('closes a client above the rate for the sustained window', async () => {
    const h = await startHarness({ methods: buildMethods(), options: { budget: { maxRequestsPerSecond: 20, sustainedSeconds: 1 } } });
    try {
      const flooder = await h.connected();
      const calm = await h.connected();
      for (let i = 0; i < 40; i++) flooder.sendRaw(JSON.stringify({ type: 'req', id: `q${i}`, method: 'test.echo' }));
      assert.deepEqual(await flooder.waitClosed(), { code: 1008, reason: 'too many errors' });
      assert.equal(flooder.frames.filter((f) => f.type === 'res' && String(f.id).startsWith('q')).length, 20);
      assert.equal((await calm.request('test.echo')).ok, true);
    } finally {
      await h.close();
    }
  });

  it('needs every second of the window over the limit (RequestBudget)', () => {
    const budget = new RequestBudget({ maxRequestsPerSecond: 50, sustainedSeconds: 5 });
    let t = 1_000_000;
    // 60/s for 4 seconds, then a quiet second, then 60/s again: never 5 in a row.
    const burst = (): boolean => {
      let ok = true;
      for (let i = 0; i < 60; i++) ok = budget.noteRequest(t + i) && ok;
      return ok;
    };
    for (let s = 0; s < 4; s++, t += 1000) assert.equal(burst(), true);
    t += 1000;
    for (let s = 0; s < 4; s++, t += 1000) assert.equal(burst(), true);
    // A fifth over-limit second in a row exhausts it.
    assert.equal(burst(), false);
  });

  it('allows up to the limit forever', () => {
    const budget = new RequestBudget({ maxRequestsPerSecond: 50, sustainedSeconds: 5 });
    for (let s = 0; s < 20; s++) for (let i = 0; i < 50; i++) assert.equal(budget.noteRequest(s * 1000 + i * 10), true);
  });
});
