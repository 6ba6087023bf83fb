/**
 * Device tokens (docs/protocol.md §2.6) on a real gateway: issued in hello-ok
 * to a device that signed the challenge with the shared secret, accepted on
 * reconnect from that device only, within the grant it was issued for, kept
 * hashed on disk, and revoked when the secret rotates. Driven by the protocol
 * test client and by the real openclaw-node client, which stores and reuses it.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { rotateTokenFile } from '../../../src/config/token-file.js';
import { deviceTokensPath } from '../../../src/security/device-token-store.js';
import { generateDeviceIdentity, ProtocolClient, type ConnectOptions, type DeviceIdentity, type ResFrame } from '../../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';

const WAIT_MS = 5_000;

// The client warns about a token over ws://; on loopback in a test that is noise.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (rest[0] === 'InsecureTransportWarning') return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
// openclaw-node needs a global WebSocket; Node 20 has none.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
const { OpenClawClient } = await import('openclaw-node');
type NodeClient = InstanceType<typeof OpenClawClient>;

const opened: ProtocolClient[] = [];
after(async () => {
  await Promise.all(opened.map((client) => client.close(1000, 1000)));
});

async function connect(gateway: StartedGateway, options: ConnectOptions): Promise<{ res: ResFrame; client: ProtocolClient }> {
  const client = await ProtocolClient.open(gateway.wsUrl);
  opened.push(client);
  return { res: await client.connect(options), client };
}

/** A device-signed connect (v3 unless told otherwise). */
function asDevice(identity: DeviceIdentity, options: ConnectOptions, version: 'v2' | 'v3' = 'v3'): ConnectOptions {
  return { client: { id: 'openclaw-control-ui', mode: 'webchat' }, ...options, device: { identity, version } };
}

async function issueToken(gateway: StartedGateway, identity: DeviceIdentity, scopes: string[]): Promise<string> {
  const { res } = await connect(gateway, asDevice(identity, { token: gateway.token, scopes }));
  assert.equal(res.ok, true, JSON.stringify(res.error));
  const token = res.payload.auth.deviceToken;
  assert.equal(typeof token, 'string');
  return token as string;
}

describe('device tokens', () => {
  let gateway: StartedGateway;
  before(async () => {
    gateway = await startGateway();
  });
  after(() => gateway?.close());

  it('issues one to a verified device with the shared secret, and none without a device', async () => {
    const identity = generateDeviceIdentity();
    const { res } = await connect(gateway, asDevice(identity, { token: gateway.token, scopes: ['operator.read', 'operator.write'] }));
    assert.equal(res.ok, true, JSON.stringify(res.error));
    const auth = res.payload.auth;
    assert.equal(auth.method, 'token');
    assert.equal(auth.role, 'operator');
    assert.deepEqual(auth.scopes, ['operator.read', 'operator.write']);
    assert.match(auth.deviceToken, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(auth.deviceToken, gateway.token);
    assert.equal(typeof auth.issuedAtMs, 'number');

    const plain = await connect(gateway, { token: gateway.token });
    assert.equal(plain.res.ok, true);
    assert.equal('deviceToken' in plain.res.payload.auth, false);
  });

  it('keeps only a keyed hash of each token on disk, mode 0600, across a restart', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'pincer-device-token-'));
    const identity = generateDeviceIdentity();
    try {
      const first = await startGateway({ stateDir });
      const token = await issueToken(first, identity, ['operator.read']);
      await first.close();
      const path = deviceTokensPath(stateDir);
      const text = await readFile(path, 'utf8');
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.ok(text.includes(identity.id), 'the record names the device');
      assert.equal(text.includes(token), false, 'the token itself is not stored');
      assert.equal(text.includes(first.token), false, 'nor the shared secret');

      const restarted = await startGateway({ stateDir, token: first.token });
      try {
        const { res } = await connect(restarted, asDevice(identity, { token, scopes: ['operator.read'] }));
        assert.equal(res.ok, true, JSON.stringify(res.error));
        assert.equal(res.payload.auth.method, 'device-token');
      } finally {
        await restarted.close();
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('accepts the token on reconnect as auth.token (openclaw-node) and as auth.deviceToken (Control UI), v2 and v3', async () => {
    const identity = generateDeviceIdentity();
    const token = await issueToken(gateway, identity, ['operator.read', 'operator.write']);
    for (const version of ['v2', 'v3'] as const) {
      for (const options of [{ token }, { deviceToken: token }]) {
        const { res } = await connect(gateway, asDevice(identity, { ...options, scopes: ['operator.read', 'operator.write'] }, version));
        assert.equal(res.ok, true, `${version} ${Object.keys(options)[0]}: ${JSON.stringify(res.error)}`);
        assert.equal(res.payload.auth.method, 'device-token');
        assert.equal(res.payload.auth.deviceToken, token, 'the same token comes back, so clients keep it');
        assert.deepEqual(res.payload.auth.scopes, ['operator.read', 'operator.write']);
      }
    }
  });

  it('grants the requested scopes Pincer implements, and on a device token no more than its grant', async () => {
    const identity = generateDeviceIdentity();
    const asked = ['operator.admin', 'operator.read', 'operator.write', 'operator.approvals', 'operator.pairing', 'operator.bogus'];
    const full = await connect(gateway, asDevice(identity, { token: gateway.token, scopes: asked }));
    assert.deepEqual(full.res.payload.auth.scopes, ['operator.admin', 'operator.read', 'operator.write']);

    const reader = generateDeviceIdentity();
    const token = await issueToken(gateway, reader, ['operator.read', 'operator.pairing']);
    const { res, client } = await connect(gateway, asDevice(reader, { token, scopes: ['operator.admin', 'operator.write', 'operator.read'] }));
    assert.equal(res.ok, true, JSON.stringify(res.error));
    assert.deepEqual(res.payload.auth.scopes, ['operator.read']);
    const send = await client.request('chat.send', { sessionKey: 'main', message: 'hi', idempotencyKey: randomUUID() });
    assert.equal(send.error?.details?.code, 'MISSING_SCOPE');
    assert.equal((await client.request('sessions.list', {})).ok, true);

    // An admin grant covers what admin implies.
    const admin = generateDeviceIdentity();
    const adminToken = await issueToken(gateway, admin, ['operator.admin']);
    const narrower = await connect(gateway, asDevice(admin, { token: adminToken, scopes: ['operator.read', 'operator.write'] }));
    assert.deepEqual(narrower.res.payload.auth.scopes, ['operator.read', 'operator.write']);
  });

  it('refuses a forged token, a foreign device, a missing device and a replayed challenge', async () => {
    const owner = generateDeviceIdentity();
    const token = await issueToken(gateway, owner, ['operator.read']);
    const forged = randomBytes(32).toString('base64url');
    const attempts: { what: string; options: ConnectOptions; code: string }[] = [
      { what: 'forged token in auth.token', options: asDevice(owner, { token: forged }), code: 'AUTH_TOKEN_MISMATCH' },
      { what: 'forged token in auth.deviceToken', options: asDevice(owner, { deviceToken: forged }), code: 'AUTH_DEVICE_TOKEN_MISMATCH' },
      { what: 'another device with the owner token', options: asDevice(generateDeviceIdentity(), { token }), code: 'AUTH_TOKEN_MISMATCH' },
      { what: 'no device block', options: { token }, code: 'AUTH_TOKEN_MISMATCH' },
      { what: 'no device block, auth.deviceToken', options: { deviceToken: token }, code: 'AUTH_DEVICE_TOKEN_MISMATCH' },
    ];
    for (const attempt of attempts) {
      const { res, client } = await connect(gateway, attempt.options);
      assert.equal(res.ok, false, attempt.what);
      assert.equal(res.error?.details?.code, attempt.code, attempt.what);
      assert.equal((await client.waitClosed(WAIT_MS)).code, 1008, attempt.what);
    }
    // The owner's id with a key that is not the owner's.
    const intruder = generateDeviceIdentity();
    const { res: stolenId } = await connect(gateway, {
      ...asDevice(intruder, { token }),
      device: { identity: { ...intruder, id: owner.id }, version: 'v3' },
    });
    assert.equal(stolenId.error?.details?.code, 'DEVICE_AUTH_DEVICE_ID_MISMATCH');
    // The owner's signature from another socket's challenge.
    const earlier = await ProtocolClient.open(gateway.wsUrl);
    opened.push(earlier);
    const staleNonce = (await earlier.challenge()).nonce;
    const { res: replayed } = await connect(gateway, { ...asDevice(owner, { token }), device: { identity: owner, version: 'v3', nonce: staleNonce } });
    assert.equal(replayed.error?.details?.code, 'DEVICE_AUTH_NONCE_MISMATCH');
    // None of this revoked the owner's token.
    const { res } = await connect(gateway, asDevice(owner, { token }));
    assert.equal(res.ok, true, JSON.stringify(res.error));
  });
});

describe('device tokens and secret rotation', () => {
  let gateway: StartedGateway;
  before(async () => {
    gateway = await startGateway({ token: null });
  });
  after(() => gateway?.close());

  it('stops accepting every device token once the generated token is rotated, and issues new ones under the new secret', async () => {
    const identity = generateDeviceIdentity();
    const token = await issueToken(gateway, identity, ['operator.read']);
    assert.equal((await connect(gateway, asDevice(identity, { token }))).res.ok, true);

    const rotated = await rotateTokenFile(gateway.stateDir);
    const { res } = await connect(gateway, asDevice(identity, { token }));
    assert.equal(res.error?.details?.code, 'AUTH_TOKEN_MISMATCH');
    // The gateway noticed the new secret and dropped its records from disk too.
    const path = deviceTokensPath(gateway.stateDir);
    for (let i = 0; (await readFile(path, 'utf8')).includes(identity.id); i++) {
      assert.ok(i < 100, 'device token file still lists the device after rotation');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const fresh = await connect(gateway, asDevice(identity, { token: rotated.token, scopes: ['operator.read'] }));
    assert.equal(fresh.res.ok, true, JSON.stringify(fresh.res.error));
    assert.notEqual(fresh.res.payload.auth.deviceToken, token);
    assert.equal((await connect(gateway, asDevice(identity, { token: fresh.res.payload.auth.deviceToken }))).res.ok, true);
  });
});

describe('openclaw-node and device tokens', () => {
  let gateway: StartedGateway;
  let identityDir: string;
  const clients: NodeClient[] = [];
  before(async () => {
    gateway = await startGateway();
    identityDir = await mkdtemp(join(tmpdir(), 'pincer-device-token-'));
  });
  after(async () => {
    for (const client of clients) await client.disconnect();
    await gateway?.close();
    await rm(identityDir, { recursive: true, force: true });
  });

  function newClient(identityPath: string, token: string | undefined): NodeClient {
    const client = new OpenClawClient({ url: gateway.wsUrl, token, autoReconnect: false, deviceIdentityPath: identityPath });
    client.on('error', () => {});
    clients.push(client);
    return client;
  }

  async function storedToken(identityPath: string): Promise<string | undefined> {
    return JSON.parse(await readFile(identityPath, 'utf8')).deviceToken;
  }

  it('stores the issued token and reconnects with it alone; a foreign identity file cannot use it', async () => {
    const identityPath = join(identityDir, 'device.json');
    const first = newClient(identityPath, gateway.token);
    const hello = (await first.connect()) as { auth?: { deviceToken?: string; method?: string } };
    assert.equal(hello.auth?.method, 'token');
    const token = await storedToken(identityPath);
    assert.equal(typeof token, 'string');
    assert.equal(token, hello.auth?.deviceToken);
    await first.disconnect();

    // No shared secret at all: the stored device token is the credential.
    const second = newClient(identityPath, undefined);
    const again = (await second.connect()) as { auth?: { deviceToken?: string; method?: string; scopes?: string[] } };
    assert.equal(again.auth?.method, 'device-token');
    assert.equal(await storedToken(identityPath), token, 'the same token stays stored');
    assert.deepEqual(again.auth?.scopes, ['operator.read', 'operator.write']);
    assert.equal(((await second.health()) as { ok: boolean }).ok, true);
    await second.disconnect();

    // Another device's identity file holding a copy of the token is refused.
    const otherPath = join(identityDir, 'other.json');
    newClient(otherPath, gateway.token);
    const other = JSON.parse(await readFile(otherPath, 'utf8'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(otherPath, JSON.stringify({ ...other, deviceToken: token }), { mode: 0o600 });
    const thief = newClient(otherPath, undefined);
    await assert.rejects(thief.connect(), /closed|mismatch|unauthorized/i);
    assert.equal(await storedToken(otherPath), undefined, 'openclaw-node drops a refused token');
  });
});
