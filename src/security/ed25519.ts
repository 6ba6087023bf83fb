/**
 * Ed25519 helpers on node:crypto for device identities (docs/protocol.md §2.3):
 * raw 32-byte public keys in base64url, SHA-256 device ids, detached
 * signatures over UTF-8 strings.
 */

import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw key follows it. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url (no padding) to bytes; undefined on any other alphabet. */
export function decodeBase64Url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64url');
}

/** A KeyObject from a raw 32-byte Ed25519 public key, or undefined when it is not one. */
export function publicKeyFromRaw(raw: Buffer): KeyObject | undefined {
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** Lower-case hex SHA-256 of the raw key: the OpenClaw device id. */
export function deviceIdOf(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/** Verify a detached Ed25519 signature over the UTF-8 bytes of `message`. Never throws. */
export function verifyEd25519(key: KeyObject, message: string, signature: Buffer): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return verify(null, Buffer.from(message, 'utf8'), key, signature);
  } catch {
    return false;
  }
}
