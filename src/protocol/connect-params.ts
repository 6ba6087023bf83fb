/**
 * Schema of the `connect` request params (docs/protocol.md §2.2). Unknown keys are
 * ignored; every string is bounded so that a hostile first frame cannot make
 * the server do unbounded work (§8.1).
 */

import * as v from 'valibot';

/** The protocol versions Pincer speaks, highest last. */
export const SUPPORTED_PROTOCOLS = [3, 4] as const;
export const MAX_PROTOCOL = 4;

const MAX_SHORT_CHARS = 256;
const MAX_SECRET_CHARS = 4096;
const MAX_SCOPES = 32;
/** OpenClaw source bounds (§2.3). */
export const MAX_DEVICE_PUBLIC_KEY_CHARS = 1024;
export const MAX_DEVICE_SIGNATURE_CHARS = 256;

const ShortString = v.pipe(v.string(), v.maxLength(MAX_SHORT_CHARS));
const OptionalShort = v.optional(v.nullable(ShortString));
const OptionalSecret = v.optional(v.nullable(v.pipe(v.string(), v.maxLength(MAX_SECRET_CHARS))));
const Protocol = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000));

export const DeviceBlockSchema = v.object({
  id: ShortString,
  publicKey: v.pipe(v.string(), v.maxLength(MAX_DEVICE_PUBLIC_KEY_CHARS)),
  signature: v.pipe(v.string(), v.maxLength(MAX_DEVICE_SIGNATURE_CHARS)),
  signedAt: v.pipe(v.number(), v.finite()),
  nonce: OptionalShort,
});

export const ConnectParamsSchema = v.object({
  minProtocol: Protocol,
  maxProtocol: Protocol,
  client: v.object({
    id: ShortString,
    mode: ShortString,
    version: OptionalShort,
    platform: OptionalShort,
    deviceFamily: OptionalShort,
    displayName: OptionalShort,
    instanceId: OptionalShort,
  }),
  role: OptionalShort,
  scopes: v.optional(v.pipe(v.array(ShortString), v.maxLength(MAX_SCOPES))),
  auth: v.optional(
    v.nullable(
      v.object({
        token: OptionalSecret,
        password: OptionalSecret,
        /** A token `hello-ok.auth.deviceToken` issued to this device (§2.6). */
        deviceToken: OptionalSecret,
      }),
    ),
  ),
  locale: OptionalShort,
  userAgent: OptionalShort,
  device: v.optional(v.nullable(DeviceBlockSchema)),
  // caps, commands and permissions are accepted and ignored (§2.2).
});

export type ConnectParams = v.InferOutput<typeof ConnectParamsSchema>;
export type DeviceBlock = v.InferOutput<typeof DeviceBlockSchema>;

/** Highest supported version in [min, max], or undefined when none overlaps. */
export function negotiateProtocol(min: number, max: number): number | undefined {
  for (let i = SUPPORTED_PROTOCOLS.length - 1; i >= 0; i--) {
    const version = SUPPORTED_PROTOCOLS[i]!;
    if (version >= min && version <= max) return version;
  }
  return undefined;
}
