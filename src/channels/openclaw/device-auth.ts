/**
 * Verification of the optional `device` block of `connect` (docs/protocol.md §2.3).
 * A device grants nothing beyond the shared secret and is never required;
 * this runs only after the secret check. A block without a nonce (v1) cannot
 * be replay-checked and is ignored.
 */

import { detailError, type DetailCode, type GatewayError } from '../../protocol/errors.js';
import { CLOSE_POLICY_VIOLATION } from './close-codes.js';
import type { ConnectParams, DeviceBlock } from '../../protocol/connect-params.js';
import { decodeBase64Url, deviceIdOf, publicKeyFromRaw, verifyEd25519 } from '../../security/ed25519.js';

/** Pincer rule: how far `signedAt` may be from the server clock. */
export const DEVICE_SIGNATURE_MAX_SKEW_MS = 10 * 60 * 1000;

export type DeviceOutcome =
  | { status: 'none' }
  /** v1 block (no nonce): ignored, the connection is device-less. */
  | { status: 'ignored' }
  | { status: 'verified'; deviceId: string; version: 'v3' | 'v2' };

/** The `v2|…|nonce` signed string. */
export function buildSignedStringV2(params: ConnectParams, device: DeviceBlock): string {
  return ['v2', ...commonFields(params, device), device.nonce ?? ''].join('|');
}

/** The `v3|…|nonce|platform|deviceFamily` signed string; absent fields are empty. */
export function buildSignedStringV3(params: ConnectParams, device: DeviceBlock): string {
  return [
    'v3',
    ...commonFields(params, device),
    device.nonce ?? '',
    params.client.platform ?? '',
    params.client.deviceFamily ?? '',
  ].join('|');
}

function commonFields(params: ConnectParams, device: DeviceBlock): string[] {
  return [
    device.id,
    params.client.id,
    params.client.mode,
    params.role ?? '',
    (params.scopes ?? []).join(','),
    String(device.signedAt),
    // The Control UI signs its device token when it sends no shared token (§2.6).
    params.auth?.token ?? params.auth?.deviceToken ?? '',
  ];
}

/**
 * Check the device block against this socket's challenge nonce.
 * Throws GatewayError (INVALID_REQUEST, DEVICE_AUTH_* details, close 1008) on a bad block.
 */
export function verifyDevice(params: ConnectParams, challengeNonce: string, now: number): DeviceOutcome {
  const device = params.device;
  if (device === undefined || device === null) return { status: 'none' };
  if (device.nonce === undefined || device.nonce === null || device.nonce === '') return { status: 'ignored' };

  // Cheap checks first; bounds were enforced by the params schema.
  if (device.nonce !== challengeNonce) throw deviceError('device nonce mismatch', 'DEVICE_AUTH_NONCE_MISMATCH');
  if (Math.abs(now - device.signedAt) > DEVICE_SIGNATURE_MAX_SKEW_MS) {
    throw deviceError('device signature expired', 'DEVICE_AUTH_SIGNATURE_EXPIRED');
  }
  const raw = decodeBase64Url(device.publicKey);
  const key = raw === undefined ? undefined : publicKeyFromRaw(raw);
  if (raw === undefined || key === undefined) throw deviceError('device public key invalid', 'DEVICE_AUTH_PUBLIC_KEY_INVALID');
  if (deviceIdOf(raw) !== device.id) throw deviceError('device identity mismatch', 'DEVICE_AUTH_DEVICE_ID_MISMATCH');

  const signature = decodeBase64Url(device.signature);
  if (signature !== undefined) {
    if (verifyEd25519(key, buildSignedStringV3(params, device), signature)) {
      return { status: 'verified', deviceId: device.id, version: 'v3' };
    }
    if (verifyEd25519(key, buildSignedStringV2(params, device), signature)) {
      return { status: 'verified', deviceId: device.id, version: 'v2' };
    }
  }
  throw deviceError('device signature invalid', 'DEVICE_AUTH_SIGNATURE_INVALID');
}

function deviceError(message: string, code: DetailCode): GatewayError {
  return detailError(code, message, { closeCode: CLOSE_POLICY_VIOLATION });
}
