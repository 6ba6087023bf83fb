/**
 * Device tokens (docs/protocol.md §2.6): the reusable credential `hello-ok`
 * hands a client that proved its Ed25519 device key while connecting with the
 * shared secret. Only an HMAC of each token, keyed by the shared secret in
 * force when it was issued, is kept (`<stateDir>/device-tokens.json`, 0600), so
 * the file alone opens nothing and a rotated secret revokes every token.
 */

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { DEVICE_TOKENS_FILE_NAME } from '../config/defaults.js';
import { writeFileAtomic } from '../sessions/atomic-write.js';

/** 256 random bits, like the generated gateway token. */
export const DEVICE_TOKEN_BYTES = 32;
/** Devices remembered at once; the least recently used one goes first. */
export const MAX_DEVICE_TOKENS = 256;

export interface DeviceTokenRecord {
  deviceId: string;
  role: string;
  clientId: string;
  /** The grant the token carries: a reconnect with it gets at most these (and what they imply). */
  scopes: string[];
  /** base64url HMAC-SHA256 of the token, keyed by the shared secret. */
  hash: string;
  issuedAtMs: number;
  lastUsedAtMs: number;
}

export interface IssuedDeviceToken {
  token: string;
  issuedAtMs: number;
}

export interface DeviceTokenStore {
  /** Replace this device's token with a fresh one carrying `scopes`. */
  issue(input: { deviceId: string; role: string; clientId: string; scopes: readonly string[]; secret: string; now: number }): IssuedDeviceToken;
  /** The device's record when `token` is its current token under `secret` (the caller checked the device's signature). */
  verify(input: { deviceId: string; role: string; token: string; secret: string; now: number }): DeviceTokenRecord | undefined;
  has(deviceId: string): boolean;
  /** Forget one device's token; true when it had one. */
  revoke(deviceId: string): boolean;
  /** Forget every token (the shared secret changed). */
  revokeAll(): void;
  size(): number;
  /** Resolves once every change so far is on disk. */
  flush(): Promise<void>;
}

const RecordSchema = v.object({
  deviceId: v.pipe(v.string(), v.maxLength(256)),
  role: v.pipe(v.string(), v.maxLength(64)),
  clientId: v.pipe(v.string(), v.maxLength(256)),
  scopes: v.pipe(v.array(v.pipe(v.string(), v.maxLength(64))), v.maxLength(32)),
  hash: v.pipe(v.string(), v.maxLength(128)),
  issuedAtMs: v.number(),
  lastUsedAtMs: v.number(),
});
const FileSchema = v.object({ version: v.literal(1), tokens: v.array(RecordSchema) });

/** Path of the device token file in a state directory. */
export function deviceTokensPath(stateDir: string): string {
  return join(stateDir, DEVICE_TOKENS_FILE_NAME);
}

/** Delete the device token file (secret rotation while no gateway runs). */
export async function removeDeviceTokens(stateDir: string): Promise<void> {
  await rm(deviceTokensPath(stateDir), { force: true });
}

export interface DeviceTokenStoreOptions {
  /** The JSON file; absent keeps tokens in memory only (tests, a gateway without a state directory). */
  path?: string;
  /** A write or an unreadable file: logged by the caller, never thrown into a handshake. */
  onError?: (message: string, error: unknown) => void;
}

/** Load the store from its file (a missing file is an empty store; a damaged one is reported and replaced). */
export async function openDeviceTokenStore(options: DeviceTokenStoreOptions = {}): Promise<DeviceTokenStore> {
  const records = new Map<string, DeviceTokenRecord>();
  if (options.path !== undefined) {
    try {
      const parsed = v.safeParse(FileSchema, JSON.parse(await readFile(options.path, 'utf8')));
      if (parsed.success) for (const record of parsed.output.tokens) records.set(record.deviceId, record);
      else options.onError?.('device token file is malformed; starting without device tokens', parsed.issues[0]?.message);
    } catch (error) {
      if (!isMissing(error)) options.onError?.('cannot read the device token file; starting without device tokens', error);
    }
  }
  return new FileDeviceTokenStore(records, options);
}

class FileDeviceTokenStore implements DeviceTokenStore {
  readonly #records: Map<string, DeviceTokenRecord>;
  readonly #options: DeviceTokenStoreOptions;
  /** SHA-256 of the secret seen last, in memory only: a change in this process revokes everything. */
  #secretDigest: string | undefined;
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;

  constructor(records: Map<string, DeviceTokenRecord>, options: DeviceTokenStoreOptions) {
    this.#records = records;
    this.#options = options;
  }

  issue(input: { deviceId: string; role: string; clientId: string; scopes: readonly string[]; secret: string; now: number }): IssuedDeviceToken {
    this.#noteSecret(input.secret);
    const token = randomBytes(DEVICE_TOKEN_BYTES).toString('base64url');
    this.#records.delete(input.deviceId);
    this.#records.set(input.deviceId, {
      deviceId: input.deviceId,
      role: input.role,
      clientId: input.clientId,
      scopes: [...input.scopes],
      hash: hashToken(input.secret, token),
      issuedAtMs: input.now,
      lastUsedAtMs: input.now,
    });
    // Map order is insertion order, and use re-inserts: the first key is the least recently used.
    while (this.#records.size > MAX_DEVICE_TOKENS) this.#records.delete(this.#records.keys().next().value!);
    this.#persist();
    return { token, issuedAtMs: input.now };
  }

  verify(input: { deviceId: string; role: string; token: string; secret: string; now: number }): DeviceTokenRecord | undefined {
    this.#noteSecret(input.secret);
    const record = this.#records.get(input.deviceId);
    if (record === undefined) return undefined;
    if (record.role !== input.role || !hashesEqual(record.hash, hashToken(input.secret, input.token))) return undefined;
    this.#records.delete(input.deviceId);
    this.#records.set(input.deviceId, { ...record, lastUsedAtMs: input.now });
    return record;
  }

  has(deviceId: string): boolean {
    return this.#records.has(deviceId);
  }

  revoke(deviceId: string): boolean {
    if (!this.#records.delete(deviceId)) return false;
    this.#persist();
    return true;
  }

  revokeAll(): void {
    if (this.#records.size === 0) return;
    this.#records.clear();
    this.#persist();
  }

  size(): number {
    return this.#records.size;
  }

  flush(): Promise<void> {
    return this.#writing;
  }

  #noteSecret(secret: string): void {
    const digest = createHash('sha256').update(secret).digest('base64url');
    if (this.#secretDigest !== undefined && this.#secretDigest !== digest) this.revokeAll();
    this.#secretDigest = digest;
  }

  /** One write at a time; changes made while one runs go out together in the next. */
  #persist(): void {
    const path = this.#options.path;
    if (path === undefined || this.#dirty) return;
    this.#dirty = true;
    this.#writing = this.#writing.then(async () => {
      this.#dirty = false;
      const body = `${JSON.stringify({ version: 1, tokens: [...this.#records.values()] }, null, 2)}\n`;
      try {
        await writeFileAtomic(path, body);
      } catch (error) {
        this.#options.onError?.('cannot write the device token file', error);
      }
    });
  }
}

function hashToken(secret: string, token: string): string {
  return createHmac('sha256', secret).update(token).digest('base64url');
}

function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}
