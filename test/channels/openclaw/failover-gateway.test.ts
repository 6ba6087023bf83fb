/**
 * provider.fallbacks through the real gateway: an OpenClaw client sees which
 * model answered in the run's agent events, in agent.wait and in the stored
 * reply of chat.history.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startFakeModelServer, type FakeModelServer } from '../../helpers/fake-model-server.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';
import { okPayload, runEvents, waitTerminal, WAIT_MS } from './e2e-setup.js';

/** Bound of the turn; generous because it loads both SDKs, ms. */
const TURN_WAIT_MS = 30_000;

let primary: FakeModelServer;
let fallback: FakeModelServer;
let gateway: StartedGateway;
let client: ProtocolClient;

before(async () => {
  primary = await startFakeModelServer();
  fallback = await startFakeModelServer();
  gateway = await startGateway({
    overrides: {
      provider: {
        kind: 'openai',
        baseUrl: primary.url,
        model: 'primary-model',
        timeoutMs: 5_000,
        maxRetries: 0,
        fallbacks: [{ kind: 'anthropic', baseUrl: fallback.anthropicUrl, model: 'fallback-model' }],
      },
    },
  });
  client = await ProtocolClient.open(gateway.wsUrl);
  okPayload(await client.connect({ token: gateway.token }));
});
after(async () => {
  await client?.close();
  await gateway?.close();
  await primary?.close();
  await fallback?.close();
});

describe('failover seen by an OpenClaw client', () => {
  it('announces the fallback model, and agent.wait and the stored reply name it with its usage', async () => {
    primary.enqueue({ status: 503 });
    fallback.enqueue({ text: ['Saved', ' turn'], usage: { input: 20, output: 5, cacheRead: 100, cacheWrite: 40 } });
    const runId = randomUUID();
    okPayload(await client.request('chat.send', { sessionKey: 'main', message: 'hi', idempotencyKey: runId }));
    const terminal = await waitTerminal(client, runId, TURN_WAIT_MS);
    assert.equal(terminal.payload.state, 'final');

    const phases = runEvents(client, runId)
      .filter((e) => e.event === 'agent' && e.payload.stream === 'lifecycle' && e.payload.data.phase === 'model')
      .map((e) => e.payload.data);
    assert.equal(phases.length, 2);
    assert.deepEqual([phases[0].provider, phases[0].model], ['openai', 'primary-model']);
    assert.deepEqual([phases[1].provider, phases[1].model, phases[1].fallback], ['anthropic', 'fallback-model', true]);
    assert.equal(phases[1].failedOver[0].model, 'primary-model');
    assert.equal(phases[1].failedOver[0].status, 503);

    const waited = okPayload(await client.request('agent.wait', { runId, timeoutMs: WAIT_MS }));
    assert.equal(waited.status, 'ok');
    assert.equal(waited.provider, 'anthropic');
    assert.equal(waited.model, 'fallback-model');
    assert.deepEqual(waited.usage, { input: 20, output: 5, cacheRead: 100, cacheWrite: 40, total: 165 });
    assert.equal(waited.result.meta.agentMeta.model, 'fallback-model');
    assert.deepEqual(waited.result.meta.agentMeta.usage, waited.usage);

    const history = okPayload(await client.request('chat.history', { sessionKey: 'main' }));
    const reply = history.messages.at(-1);
    assert.equal(reply.provider, 'anthropic');
    assert.equal(reply.model, 'fallback-model');
    assert.equal(reply.usage.cacheRead, 100);
    assert.equal(reply.usage.cacheWrite, 40);
  });
});
