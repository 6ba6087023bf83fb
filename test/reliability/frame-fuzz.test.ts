/**
 * Issue 6, item 4: fast-check fuzzing of the OpenClaw frame handling on real
 * sockets. Malformed frames (bad JSON, wrong types, huge ids, deep nesting,
 * `__proto__`/`constructor` keys, binary frames, lone surrogates) are mixed
 * with valid requests. The gateway stays up, every frame with a readable id
 * gets exactly one res (an error from a fixed set of codes when the frame is
 * invalid), frames with no readable id get none and leave the socket open
 * (issue 13 item 8), valid requests succeed, no prototype is polluted and RSS
 * grows less than 50 MB. Seeded: PINCER_SOAK_SEED replays a run.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ProtocolClient, type ResFrame } from '../helpers/protocol-client.js';
import { httpGet } from '../helpers/spawn-cli.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { collectGarbage, SEED, soakCount } from './soak-settings.js';

const FRAMES = soakCount('FUZZ_FRAMES', 10_000, 100_000);
/** Frames sent on one socket before it is closed (or killed by its terminator). */
const MAX_BATCH = 40;
/** Sockets fuzzed at the same time. */
const PARALLEL_SOCKETS = 4;
/** Codes a res may carry (protocol.md §1.2: the four Pincer uses). */
const ERROR_CODES = new Set(['INVALID_REQUEST', 'FORBIDDEN', 'UNAVAILABLE', 'AGENT_TIMEOUT']);
const RSS_GROWTH_LIMIT_BYTES = 50 * 1024 * 1024;
const HEALTH_POLL_MS = 50;
const WAIT_MS = 10_000;
const MAX_ID_CHARS = 256;

/** One generated frame and what the gateway must do with it. */
interface FuzzFrame {
  /** Text of the frame (sent as a binary frame when `binary`). */
  text: string;
  binary?: boolean;
  /** The id the res must carry; undefined: unanswerable (dropped, or the socket is closed with `closeCode`). */
  id?: string;
  expect: 'ok' | 'error' | 'either';
  closeCode?: number;
}

const VALID_REQUESTS: [string, unknown][] = [
  ['health', {}],
  ['status', {}],
  ['sessions.list', {}],
  ['chat.history', { sessionKey: 'main', limit: 5 }],
  ['models.list', {}],
  ['agents.list', {}],
];
const KNOWN_METHODS = [...VALID_REQUESTS.map(([m]) => m), 'chat.send', 'chat.abort', 'sessions.patch', 'sessions.delete', 'agent', 'agent.wait', 'connect'];

/** Strings with lone surrogates, control characters and astral characters. */
const nastyString = fc.string({ unit: fc.oneof(fc.constantFrom('\ud800', '\udfff', '\u0000', '\u2028', '😀', '"', '\\'), fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code))), maxLength: 24 });
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nastyString, fc.constant(null), fc.integer(), fc.double());
const POISON_KEYS = ['__proto__', 'constructor', 'prototype'];

/** A frame with a readable id (built from `n`, so ids are unique) that the gateway must answer. */
function answerable(n: number): fc.Arbitrary<FuzzFrame> {
  const idOf = (tail: string): string => `${n}:${tail}`.slice(0, MAX_ID_CHARS);
  const idArb = nastyString.map(idOf);
  const invalid = (build: (id: string) => string, expect: FuzzFrame['expect'] = 'error') =>
    idArb.map((id): FuzzFrame => ({ text: build(id), id, expect }));
  return fc.oneof(
    // Valid requests, so the socket's error streak resets and the oracle sees successes too.
    fc.constantFrom(...VALID_REQUESTS).chain(([method, params]) =>
      idArb.map((id): FuzzFrame => ({ text: JSON.stringify({ type: 'req', id, method, params }), id, expect: 'ok' })),
    ),
    fc.tuple(fc.oneof(fc.constantFrom('res', 'event', 'REQ', ''), fc.integer(), fc.constant(null)), fc.constantFrom(...KNOWN_METHODS)).chain(([type, method]) =>
      invalid((id) => JSON.stringify({ type, id, method })),
    ),
    fc.oneof(fc.integer(), fc.constant(''), fc.constant('x'.repeat(200)), fc.array(fc.string()), fc.constant(null)).chain((method) =>
      invalid((id) => JSON.stringify({ type: 'req', id, method })),
    ),
    nastyString.chain((name) => invalid((id) => JSON.stringify({ type: 'req', id, method: `x.${name}` }))),
    fc.tuple(fc.constantFrom(...KNOWN_METHODS), anyJson).chain(([method, raw]) => {
      // Judge the params as sent (NaN goes out as null), and `params: null` reads as absent (§1).
      const params: unknown = JSON.parse(JSON.stringify({ raw })).raw;
      const sureError = method === 'connect' || (params !== null && params !== undefined && (typeof params !== 'object' || Array.isArray(params)));
      return invalid((id) => JSON.stringify({ type: 'req', id, method, params }), sureError ? 'error' : 'either');
    }),
    fc.tuple(fc.constantFrom(...POISON_KEYS), fc.constantFrom('health', 'chat.history', 'sessions.patch', 'x.unknown')).chain(([key, method]) =>
      invalid(
        (id) => `{"type":"req","id":${JSON.stringify(id)},"method":"${method}","${key}":{"polluted":true},"params":{"${key}":{"polluted":true},"sessionKey":"main","constructor":{"prototype":{"polluted":true}}}}`,
        method === 'health' ? 'ok' : 'either',
      ),
    ),
    fc.integer({ min: 100, max: 5_000 }).chain((depth) =>
      invalid((id) => `{"type":"req","id":${JSON.stringify(id)},"method":"chat.history","params":{"sessionKey":${'['.repeat(depth)}${']'.repeat(depth)}}}`),
    ),
    fc.dictionary(nastyString, anyJson, { maxKeys: 4 }).chain((extra) =>
      invalid((id) => JSON.stringify({ ...extra, type: 'req', id, method: 'health', params: [] })),
    ),
  );
}

/** A frame with no readable id: dropped without a res, the socket stays open. */
const unanswerable: fc.Arbitrary<FuzzFrame> = fc.oneof(
  fc.constantFrom('not json', '{"type":"req"', '[1,2,3]', '"text"', 'null', '42', '', '{}', '\ud800{').map((text) => ({ text, expect: 'error' as const })),
  fc.oneof(fc.integer(), fc.constant(''), fc.constant('i'.repeat(MAX_ID_CHARS + 1)), fc.constant(null), fc.array(fc.string())).map((id) => ({
    text: JSON.stringify({ type: 'req', id, method: 'health' }),
    expect: 'error' as const,
  })),
  fc.integer({ min: 2_000, max: 20_000 }).map((depth) => ({ text: '['.repeat(depth) + ']'.repeat(depth), expect: 'error' as const })),
);

/** A frame that ends the socket with a close code. */
const terminating: fc.Arbitrary<FuzzFrame> = fc.constant({ text: '{"type":"req","id":"bin","method":"health"}', binary: true, expect: 'error' as const, closeCode: 1003 });

/** Frames of one socket: answerable ones with unanswerable ones among them, then maybe one that ends it. */
function batchArb(firstId: number): fc.Arbitrary<{ frames: FuzzFrame[]; terminator: FuzzFrame | undefined }> {
  return fc.integer({ min: 1, max: MAX_BATCH }).chain((size) =>
    fc.record({
      frames: fc.tuple(...Array.from({ length: size }, (_, i) => fc.oneof({ arbitrary: answerable(firstId + i), weight: 4 }, { arbitrary: unanswerable, weight: 1 }))),
      terminator: fc.option(terminating, { nil: undefined, freq: 2 }),
    }),
  );
}

describe('fuzzing the frame handling on real sockets', { timeout: 30_000 + FRAMES * 20 }, () => {
  let gateway: StartedGateway;

  before(async () => {
    gateway = await startGateway();
  });
  after(() => gateway.close());

  it(`answers ${FRAMES} malformed and valid frames correctly and stays healthy (seed ${SEED})`, async () => {
    const prototypeKeys = snapshotPrototypes();
    const health = pollHealth(gateway.url);
    let batchIndex = 0;
    const figures = { frames: 0, sockets: 0, errors: 0, oks: 0, dropped: 0, closes: 0 };
    let nextId = 0;
    let rssBaseline: number | undefined;

    const runBatch = async (): Promise<void> => {
      // One seed per batch: a failing batch replays alone with the same seed and index.
      const [batch] = fc.sample(batchArb(nextId), { seed: SEED + batchIndex++, numRuns: 1 });
      if (batch === undefined) throw new Error('fast-check produced no batch');
      nextId += batch.frames.length;
      const client = await ProtocolClient.open(gateway.wsUrl);
      try {
        const hello = await client.connect({ token: gateway.token });
        assert.equal(hello.ok, true, 'connect');
        const answerableFrames = batch.frames.filter((frame) => frame.id !== undefined);
        const answers = answerableFrames.map((frame) => waitRes(client, frame.id!));
        for (const frame of batch.frames) client.sendRaw(frame.text);
        // A closing request: once it is answered, every earlier frame has been handled.
        const probe = await client.request('health', {}, { timeoutMs: WAIT_MS });
        assert.equal(probe.ok, true, 'the socket survived its unanswerable frames');
        const results = await Promise.all(answers);
        answerableFrames.forEach((frame, i) => checkAnswer(frame, results[i]!, figures));
        figures.dropped += batch.frames.length - answerableFrames.length;
        const resCount = client.frames.filter((f) => f.type === 'res').length;
        assert.equal(resCount, answerableFrames.length + 2, 'one res per answerable frame, none for the rest (plus connect and probe)');
        if (batch.terminator !== undefined) {
          client.sendRaw(batch.terminator.binary ? Buffer.from(batch.terminator.text) : batch.terminator.text, batch.terminator.binary);
          const closed = await client.waitClosed(WAIT_MS);
          assert.equal(closed.code, batch.terminator.closeCode, `terminator ${JSON.stringify(batch.terminator.text.slice(0, 60))}`);
          figures.closes++;
        } else {
          await client.close();
        }
        for (const frame of answerableFrames) {
          assert.equal(client.responsesFor(frame.id!).length, 1, `exactly one res for ${JSON.stringify(frame.id)}`);
        }
        figures.frames += batch.frames.length + (batch.terminator === undefined ? 0 : 1);
        figures.sockets++;
      } finally {
        client.ws.terminate();
      }
    };

    const worker = async (): Promise<void> => {
      while (figures.frames < FRAMES) {
        await runBatch();
        if (rssBaseline === undefined) {
          collectGarbage();
          rssBaseline = process.memoryUsage().rss;
        }
      }
    };
    let polls: { ok: number; failed: number };
    try {
      await Promise.all(Array.from({ length: PARALLEL_SOCKETS }, worker));
    } finally {
      polls = await health.stop();
    }

    collectGarbage();
    const rssGrowth = process.memoryUsage().rss - (rssBaseline ?? 0);
    assert.deepEqual(snapshotPrototypes(), prototypeKeys, 'no prototype gained a key');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(polls.ok > 0 && polls.failed === 0, `/health: ${polls.ok} ok, ${polls.failed} failed`);
    assert.ok(rssGrowth < RSS_GROWTH_LIMIT_BYTES, `RSS grew ${(rssGrowth / 1e6).toFixed(1)} MB`);
    const valid = await ProtocolClient.open(gateway.wsUrl);
    assert.equal((await valid.connect({ token: gateway.token })).ok, true);
    assert.equal((await valid.request('health', {})).ok, true, 'the gateway still answers after the fuzzing');
    await valid.close();
    console.log(
      `frame fuzz (seed ${SEED}): ${figures.frames} frames on ${figures.sockets} sockets: ${figures.errors} error res, ${figures.oks} ok res,` +
        ` ${figures.dropped} unanswerable dropped, ${figures.closes} closes; /health ${polls.ok}/${polls.ok + polls.failed} ok; RSS growth ${(rssGrowth / 1e6).toFixed(1)} MB`,
    );
  });
});

function waitRes(client: ProtocolClient, id: string): Promise<ResFrame> {
  return client.waitFor((f) => f.type === 'res' && f.id === id, WAIT_MS, `res ${JSON.stringify(id).slice(0, 40)}`) as Promise<ResFrame>;
}

function checkAnswer(frame: FuzzFrame, res: ResFrame, figures: { errors: number; oks: number }): void {
  const label = `${frame.text.slice(0, 120)} → ${JSON.stringify(res).slice(0, 200)}`;
  if (res.ok) {
    assert.notEqual(frame.expect, 'error', `accepted an invalid frame: ${label}`);
    figures.oks++;
    return;
  }
  assert.notEqual(frame.expect, 'ok', `refused a valid request: ${label}`);
  assert.ok(ERROR_CODES.has(res.error?.code ?? ''), `unexpected error code: ${label}`);
  assert.equal(typeof res.error?.message, 'string');
  figures.errors++;
}

function snapshotPrototypes(): Record<string, string[]> {
  const protos = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype };
  return Object.fromEntries(Object.entries(protos).map(([name, proto]) => [name, Reflect.ownKeys(proto).map(String).sort()]));
}

/** GET /health every HEALTH_POLL_MS until stopped; counts answers. */
function pollHealth(url: string): { stop(): Promise<{ ok: number; failed: number }> } {
  const counts = { ok: 0, failed: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const res = await httpGet(`${url}/health`, 2_000);
        if (res.status === 200) counts.ok++;
        else counts.failed++;
      } catch {
        counts.failed++;
      }
      await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return counts;
    },
  };
}
