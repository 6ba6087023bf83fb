import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import { verifyDevice, buildSignedStringV3 } from '../../../src/channels/openclaw/device-auth.js';
import { ConnectParamsSchema } from '../../../src/protocol/connect-params.js';
import { GatewayError } from '../../../src/protocol/errors.js';
import { startHarness, TEST_TOKEN, type Harness } from '../../helpers/openclaw-channel-harness.js';
import { generateDeviceIdentity, signDevice } from '../../helpers/protocol-client.js';

/** Probe A-1 of the reference capture (throwaway test values, kept so the signature verifies). */
const CAPTURED_A1 = {
  minProtocol: 4,
  maxProtocol: 4,
  client: { id: 'cli', version: '2026.9.6', platform: 'linux', mode: 'cli', instanceId: 'b049fc77-376d-4f40-b09c-644174aacf10' },
  role: 'operator',
  scopes: ['operator.admin', 'operator.read', 'operator.write', 'operator.approvals', 'operator.pairing'],
  caps: ['tool-events'],
  auth: { token: 'peer-test-token-0123456789' },
  locale: 'en-US',
  userAgent: 'openclaw-peer-capture/0.1',
  device: {
    id: '25f880884a425a39d9a5bb923a24562a77c5c68f2847d609e6838c52ffb5c387',
    publicKey: 'wVY_0TnDNGnGzrbgl5nVc28PPqAS7NuDTcdCmpolNLE',
    signature: '69GclRcdfp6N6FrL1uwBUmCqTaP-paVbG-zWFL0mEw-3min6qsvI8oSiRtuc9zewWOs8I6GbeXqK17HJTrGMAQ',
    signedAt: 1795606535147,
    nonce: '58b3ec06-1b76-4ef2-8ceb-9231b34e5d5b',
  },
};

const REFERENCE_NAME = join('shared', 'reference', 'openclaw-2026.9.6-frames.jsonl');

/** The reference capture, found by walking up from this file (works from src and dist). */
function findReference(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, REFERENCE_NAME);
    if (existsSync(candidate)) return candidate;
    const sibling = join(dir, '..', REFERENCE_NAME);
    if (existsSync(sibling)) return sibling;
    dir = dirname(dir);
  }
  return undefined;
}

function parse(params: unknown) {
  return v.parse(ConnectParamsSchema, params);
}

function deviceCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.closeCode, 1008);
    return error.details?.code as string;
  }
}

describe('device signatures (captured vectors)', () => {
  it('verifies probe A-1 over the v3 signed string', () => {
    const params = parse(CAPTURED_A1);
    assert.ok(buildSignedStringV3(params, params.device!).endsWith('|linux|'));
    const outcome = verifyDevice(params, CAPTURED_A1.device.nonce, CAPTURED_A1.device.signedAt + 1000);
    assert.deepEqual(outcome, { status: 'verified', deviceId: CAPTURED_A1.device.id, version: 'v3' });
  });

  it('verifies every device block of the reference capture (A-1, B-1) over v3', (t) => {
    const path = findReference();
    if (path === undefined) {
      t.skip('reference capture not found beside the repository');
      return;
    }
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const sends = lines.filter((l) => l.dir === 'send' && l.frame?.method === 'connect' && l.frame.params?.device);
    assert.ok(sends.length >= 2);
    for (const line of sends) {
      const params = parse(line.frame.params);
      const outcome = verifyDevice(params, params.device!.nonce!, params.device!.signedAt);
      assert.equal(outcome.status, 'verified', line.frame.id);
    }
  });

  it('refuses a tampered captured block', () => {
    const tampered = parse({ ...CAPTURED_A1, scopes: ['operator.read'] });
    assert.equal(deviceCode(() => verifyDevice(tampered, CAPTURED_A1.device.nonce, CAPTURED_A1.device.signedAt)), 'DEVICE_AUTH_SIGNATURE_INVALID');
  });

  it('refuses a signature older than 10 minutes', () => {
    const params = parse(CAPTURED_A1);
    const later = CAPTURED_A1.device.signedAt + 11 * 60 * 1000;
    assert.equal(deviceCode(() => verifyDevice(params, CAPTURED_A1.device.nonce, later)), 'DEVICE_AUTH_SIGNATURE_EXPIRED');
  });

  it('refuses a key that is not 32 bytes and an id that is not its hash', () => {
    const shortKey = parse({ ...CAPTURED_A1, device: { ...CAPTURED_A1.device, publicKey: 'AAAA' } });
    assert.equal(deviceCode(() => verifyDevice(shortKey, CAPTURED_A1.device.nonce, CAPTURED_A1.device.signedAt)), 'DEVICE_AUTH_PUBLIC_KEY_INVALID');
    const badAlphabet = parse({ ...CAPTURED_A1, device: { ...CAPTURED_A1.device, publicKey: 'wVY/0TnDNGnGzrbgl5nVc28PPqAS7NuDTcdCmpolNLE' } });
    assert.equal(deviceCode(() => verifyDevice(badAlphabet, CAPTURED_A1.device.nonce, CAPTURED_A1.device.signedAt)), 'DEVICE_AUTH_PUBLIC_KEY_INVALID');
    const wrongId = parse({ ...CAPTURED_A1, device: { ...CAPTURED_A1.device, id: 'f'.repeat(64) } });
    assert.equal(deviceCode(() => verifyDevice(wrongId, CAPTURED_A1.device.nonce, CAPTURED_A1.device.signedAt)), 'DEVICE_AUTH_DEVICE_ID_MISMATCH');
  });

  it('ignores a v1 block (no nonce)', () => {
    const { nonce: _nonce, ...v1 } = CAPTURED_A1.device;
    const params = parse({ ...CAPTURED_A1, device: v1 });
    assert.deepEqual(verifyDevice(params, 'whatever', 0), { status: 'ignored' });
  });

  it('rejects oversize keys and signatures in the params schema, before any crypto', () => {
    const big = { ...CAPTURED_A1, device: { ...CAPTURED_A1.device, publicKey: 'A'.repeat(1025) } };
    assert.equal(v.safeParse(ConnectParamsSchema, big).success, false);
    const bigSig = { ...CAPTURED_A1, device: { ...CAPTURED_A1.device, signature: 'A'.repeat(257) } };
    assert.equal(v.safeParse(ConnectParamsSchema, bigSig).success, false);
  });
});

describe('connect with a device block', () => {
  let h: Harness;
  const identity = generateDeviceIdentity();
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  for (const version of ['v3', 'v2'] as const) {
    it(`accepts a fresh ${version}-signed block on protocol 4 (OpenClaw CLI-style)`, async () => {
      const client = await h.open();
      const res = await client.connect({
        token: TEST_TOKEN,
        client: { id: 'cli', mode: 'cli', deviceFamily: 'Linux' },
        scopes: ['operator.read', 'operator.write'],
        device: { identity, version },
      });
      assert.equal(res.ok, true, JSON.stringify(res.error));
      assert.equal(res.payload.protocol, 4);
      assert.equal('deviceToken' in res.payload.auth, false);
    });
  }

  it('treats a v1 block as no device', async () => {
    const res = await (await h.open()).connect({ token: TEST_TOKEN, device: { identity, version: 'v1' } });
    assert.equal(res.ok, true);
  });

  it('refuses a bad signature with DEVICE_AUTH_SIGNATURE_INVALID and 1008', async () => {
    const client = await h.open();
    const nonce = (await client.challenge()).nonce;
    const params = client.buildConnectParams({ token: TEST_TOKEN, device: { identity, version: 'v3' } }, nonce);
    // Signed for other scopes than the ones sent.
    params.device = signDevice(identity, { ...params, scopes: ['operator.read'] }, 'v3', nonce);
    const res = await client.request('connect', params);
    assert.equal(res.error?.code, 'INVALID_REQUEST');
    assert.equal(res.error?.message, 'device signature invalid');
    assert.equal(res.error?.details.code, 'DEVICE_AUTH_SIGNATURE_INVALID');
    assert.deepEqual(await client.waitClosed(), { code: 1008, reason: 'device signature invalid' });
  });

  it("refuses another socket's nonce with DEVICE_AUTH_NONCE_MISMATCH", async () => {
    const other = await h.open();
    const otherNonce = (await other.challenge()).nonce;
    const client = await h.open();
    await client.challenge();
    const res = await client.connect({ token: TEST_TOKEN, device: { identity, version: 'v3', nonce: otherNonce } });
    assert.equal(res.error?.details.code, 'DEVICE_AUTH_NONCE_MISMATCH');
    assert.equal((await client.waitClosed()).code, 1008);
  });

  it('refuses an expired signature', async () => {
    const client = await h.open();
    const res = await client.connect({ token: TEST_TOKEN, device: { identity, version: 'v2', signedAt: Date.now() - 11 * 60 * 1000 } });
    assert.equal(res.error?.details.code, 'DEVICE_AUTH_SIGNATURE_EXPIRED');
  });

  it('checks the shared secret before the device', async () => {
    const client = await h.open();
    const nonce = (await client.challenge()).nonce;
    const params = client.buildConnectParams({ token: 'wrong-token', device: { identity, version: 'v3' } }, nonce);
    params.device.signature = params.device.signature.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A'));
    const res = await client.request('connect', params);
    assert.equal(res.error?.details.code, 'AUTH_TOKEN_MISMATCH');
  });
});
