/**
 * The channel's upgrade gate (upgrade.ts) answers every refusal the way the
 * gateway does (protocol/http-refusal.ts): a JSON error body with the common
 * headers, and after a shutdown the gateway's drain refusal, 503 with
 * `Retry-After: 2`. No refusal ever upgrades.
 */

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { startHarness, waitUntil, type Harness } from '../../helpers/openclaw-channel-harness.js';

interface Refusal {
  status: number;
  headers: IncomingHttpHeaders;
  body: { error?: { message?: string; type?: string } };
}

/** An upgrade request whose refusal is read in full; rejects if it upgrades. */
function refusedUpgrade(port: number, headers: Record<string, string> = {}): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/',
      timeout: 5_000,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Version': '13',
        ...headers,
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('the upgrade was accepted'));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('upgrade timed out')));
    req.on('error', reject);
    req.end();
  });
}

function assertGatewayShape(refusal: Refusal, status: number, type: string): void {
  assert.equal(refusal.status, status);
  assert.equal(refusal.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(refusal.headers['x-content-type-options'], 'nosniff');
  assert.equal(refusal.headers['cache-control'], 'no-store');
  assert.equal(refusal.headers.connection, 'close');
  assert.equal(refusal.body.error?.type, type);
  assert.ok((refusal.body.error?.message ?? '') !== '', 'a message says why');
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('upgrade refusals of the OpenClaw channel', () => {
  it('refuses a foreign Origin, a foreign Host and two Hosts with the gateway JSON error body', async () => {
    harness = await startHarness();
    const { port } = harness;
    assertGatewayShape(await refusedUpgrade(port, { Origin: 'https://evil.example' }), 403, 'origin_not_allowed');
    assertGatewayShape(await refusedUpgrade(port, { Host: 'evil.example' }), 421, 'host_not_allowed');
    const twoHosts = await new Promise<Refusal>((resolve, reject) => {
      // Node's client sends one Host; raw headers allow the second.
      const req = request({ host: '127.0.0.1', port, path: '/', setHost: false, timeout: 5_000, headers: [
        'Host', `127.0.0.1:${port}`, 'Host', `localhost:${port}`, 'Connection', 'Upgrade', 'Upgrade', 'websocket',
        'Sec-WebSocket-Key', randomBytes(16).toString('base64'), 'Sec-WebSocket-Version', '13',
      ] as unknown as Record<string, string> });
      req.on('upgrade', () => reject(new Error('the upgrade was accepted')));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      });
      req.on('error', reject);
      req.end();
    });
    assertGatewayShape(twoHosts, 400, 'duplicate_host');
  });

  it('refuses past the pending-socket cap with a JSON 503', async () => {
    harness = await startHarness({ options: { maxPendingPerIp: 2 } });
    await harness.open();
    await harness.open();
    await waitUntil(() => harness!.channel.stats().pending === 2, 5_000, 'two pending sockets');
    assertGatewayShape(await refusedUpgrade(harness.port), 503, 'unavailable');
  });

  it('after shutdown refuses as the gateway does while draining: 503 with Retry-After 2', async () => {
    harness = await startHarness();
    await harness.channel.shutdown('shutdown');
    const refusal = await refusedUpgrade(harness.port);
    assertGatewayShape(refusal, 503, 'unavailable');
    assert.equal(refusal.headers['retry-after'], '2');
    assert.equal(refusal.body.error?.message, 'gateway shutting down');
  });
});
