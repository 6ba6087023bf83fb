/**
 * Usage and cost through the real gateway: replies of a priced model (from
 * the estimates table), a model priced by provider.cost and an unpriced one;
 * the stored replies, agent.wait, the OpenAI-compatible API, sessions.usage,
 * usage.cost and usage.status, and the same totals after a restart.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileConfig } from '../../../src/config/schema.js';
import { startFakeModelServer, type FakeModelServer } from '../../helpers/fake-model-server.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';
import { okPayload, waitTerminal, WAIT_MS } from './e2e-setup.js';

/** Bound of one turn; generous because the first call of each kind loads its SDK, ms. */
const TURN_WAIT_MS = 30_000;

let primary: FakeModelServer;
let fallback: FakeModelServer;
let stateDir: string;
let gateway: StartedGateway | undefined;
let client: ProtocolClient | undefined;

/** gpt-4o list prices, USD per million tokens (input, output, cache read). */
const GPT_4O = { input: 2.5, output: 10, cacheRead: 1.25 };
const GPT_4O_USAGE = { input: 1_000, output: 500, cacheRead: 2_000 };
const GPT_4O_COST = (1_000 * GPT_4O.input + 500 * GPT_4O.output + 2_000 * GPT_4O.cacheRead) / 1e6;
/** provider.cost for the local model. */
const LOCAL_PRICE = { input: 1, output: 2 };
const LOCAL_USAGE = { input: 300, output: 100 };
const LOCAL_COST = (300 * LOCAL_PRICE.input + 100 * LOCAL_PRICE.output) / 1e6;
const MYSTERY_USAGE = { input: 100, output: 50, cacheWrite: 10 };

function config(): FileConfig {
  return {
    provider: {
      kind: 'openai',
      baseUrl: primary.url,
      model: 'gpt-4o-2024-08-06',
      timeoutMs: 5_000,
      maxRetries: 0,
      fallbacks: [
        { kind: 'anthropic', baseUrl: fallback.anthropicUrl, model: 'mystery-model' },
        { kind: 'openai', baseUrl: fallback.url, model: 'local-model' },
      ],
      cost: { 'local-model': LOCAL_PRICE },
    },
  };
}

async function start(): Promise<ProtocolClient> {
  gateway = await startGateway({ stateDir, overrides: config() });
  client = await ProtocolClient.open(gateway.wsUrl);
  okPayload(await client.connect({ token: gateway.token }));
  return client;
}

async function stop(): Promise<void> {
  await client?.close();
  await gateway?.close();
  client = undefined;
  gateway = undefined;
}

async function send(c: ProtocolClient, sessionKey: string, message: string): Promise<string> {
  const runId = randomUUID();
  okPayload(await c.request('chat.send', { sessionKey, message, idempotencyKey: runId }));
  const terminal = await waitTerminal(c, runId, TURN_WAIT_MS);
  assert.equal(terminal.payload.state, 'final', JSON.stringify(terminal.payload));
  return runId;
}

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
}

before(async () => {
  primary = await startFakeModelServer();
  fallback = await startFakeModelServer();
  stateDir = await mkdtemp(join(tmpdir(), 'pincer-usage-'));
});
after(async () => {
  await stop();
  await primary?.close();
  await fallback?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('usage and cost', () => {
  let gptRun = '';
  let mysteryRun = '';

  it('stores each reply with its tokens and, when the price is known, its cost', async () => {
    const c = await start();
    primary.enqueue({ text: 'priced', usage: GPT_4O_USAGE });
    gptRun = await send(c, 'main', 'one');
    // The primary fails (cooling down 1 ms), Anthropic answers with an unknown price.
    primary.enqueue({ status: 503, retryAfterMs: 1 });
    fallback.enqueue({ text: 'unpriced', usage: MYSTERY_USAGE });
    mysteryRun = await send(c, 'main', 'two');
    // Both fail: the third model, priced by provider.cost, answers in another session.
    primary.enqueue({ status: 503, retryAfterMs: 1 });
    fallback.enqueue({ status: 529 }, { text: 'local', usage: LOCAL_USAGE });
    await send(c, 'work', 'three');

    const history = okPayload(await c.request('chat.history', { sessionKey: 'main' }));
    const [, first, , second] = history.messages;
    assert.equal(first.model, 'gpt-4o-2024-08-06');
    assert.equal(first.usage.cacheRead, 2_000);
    near(first.usage.cost.total, GPT_4O_COST, 'gpt-4o reply cost');
    near(first.usage.cost.cacheRead, (2_000 * GPT_4O.cacheRead) / 1e6, 'cache read cost');
    assert.equal(second.model, 'mystery-model');
    assert.equal(second.usage.cacheWrite, 10);
    assert.equal(second.usage.cost, undefined, 'an unknown price is absent, not 0');
  });

  it('agent.wait reports the run usage and its cost, or null when unknown', async () => {
    const c = client as ProtocolClient;
    const priced = okPayload(await c.request('agent.wait', { runId: gptRun, timeoutMs: WAIT_MS }));
    assert.equal(priced.usage.input, 1_000);
    assert.equal(priced.usage.cacheRead, 2_000);
    near(priced.usage.cost.total, GPT_4O_COST, 'agent.wait cost');
    near(priced.result.meta.agentMeta.costUsd, GPT_4O_COST, 'agentMeta.costUsd');
    const unpriced = okPayload(await c.request('agent.wait', { runId: mysteryRun, timeoutMs: WAIT_MS }));
    assert.equal(unpriced.model, 'mystery-model');
    assert.equal(unpriced.usage.cost, undefined);
    assert.equal(unpriced.result.meta.agentMeta.costUsd, null);
  });

  it('the OpenAI-compatible API reports usage with cached tokens and the cost', async () => {
    const g = gateway as StartedGateway;
    primary.enqueue({ text: 'via http', usage: GPT_4O_USAGE });
    const res = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${g.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'pincer', messages: [{ role: 'user', content: 'http' }], user: 'usage-test' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { usage: Record<string, any> };
    assert.equal(body.usage.prompt_tokens, 3_000, 'prompt tokens include the cached ones');
    assert.equal(body.usage.completion_tokens, 500);
    assert.deepEqual(body.usage.prompt_tokens_details, { cached_tokens: 2_000 });
    near(body.usage.cost, GPT_4O_COST, 'usage.cost');
  });

  let before: any;

  it('sessions.usage totals tokens and cost per session and per model; unknown prices are counted, not zeroed', async () => {
    const c = client as ProtocolClient;
    const report = okPayload(await c.request('sessions.usage', {}));
    const { totals } = report;
    assert.equal(totals.input, 1_000 + 100 + 300 + 1_000);
    assert.equal(totals.output, 500 + 50 + 100 + 500);
    assert.equal(totals.cacheRead, 4_000);
    assert.equal(totals.cacheWrite, 10);
    near(totals.totalCost, 2 * GPT_4O_COST + LOCAL_COST, 'totalCost');
    assert.equal(totals.missingCostEntries, 1);
    const main = report.sessions.find((row: any) => row.key === 'agent:main:main');
    assert.equal(main.usage.missingCostEntries, 1);
    near(main.usage.totalCost, GPT_4O_COST, 'main session cost');
    const models = Object.fromEntries(report.aggregates.byModel.map((m: any) => [m.model, m]));
    assert.equal(models['gpt-4o-2024-08-06'].count, 2);
    assert.equal(models['mystery-model'].totals.missingCostEntries, 1);
    near(models['local-model'].totals.totalCost, LOCAL_COST, 'local model cost');
    assert.equal(report.aggregates.daily.length, 1);
    assert.equal(report.aggregates.messages.assistant, 4);
    before = report;
  });

  it('usage.cost gives the same totals per day, and usage.status each configured model today', async () => {
    const c = client as ProtocolClient;
    const cost = okPayload(await c.request('usage.cost', { days: 7 }));
    assert.equal(cost.days, 7);
    assert.equal(cost.daily.length, 1);
    assert.deepEqual(cost.totals, before.totals);
    assert.deepEqual(cost.daily[0].date, new Date().toISOString().slice(0, 10));
    const status = okPayload(await c.request('usage.status', {}));
    assert.deepEqual(
      status.providers.map((p: any) => p.displayName),
      ['openai gpt-4o-2024-08-06', 'anthropic mystery-model', 'openai local-model'],
    );
    assert.match(status.providers[0].summary, /today: 7,000 tokens in 2 replies, \$0\.0200 estimated/);
    assert.match(status.providers[1].summary, /price unknown/);
  });

  it('rejects an impossible offset or date naming the field', async () => {
    const c = client as ProtocolClient;
    const offset = await c.request('usage.cost', { mode: 'specific', utcOffset: 'UTC+25' });
    assert.equal(offset.error?.code, 'INVALID_REQUEST');
    assert.match(offset.error?.message ?? '', /utcOffset/);
    const date = await c.request('sessions.usage', { startDate: '2026-02-30' });
    assert.equal(date.error?.code, 'INVALID_REQUEST');
    assert.match(date.error?.message ?? '', /startDate/);
  });

  it('keeps the same totals after a restart', async () => {
    await stop();
    const c = await start();
    const report = okPayload(await c.request('sessions.usage', {}));
    assert.deepEqual(report.totals, before.totals);
    assert.deepEqual(report.aggregates.byModel, before.aggregates.byModel);
    const cost = okPayload(await c.request('usage.cost', {}));
    assert.deepEqual(cost.totals, before.totals);
  });
});
