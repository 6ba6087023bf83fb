/** What system-presence shows of a connected client, taken from its `connect` params (strings only, bounded). */

import type { PresenceClient } from './methods/system-info.js';

/** Longest client-supplied text kept, characters. */
const MAX_FIELD_CHARS = 128;

/** The presence row of a client that just authenticated. */
export function presenceOf(
  params: unknown,
  granted: { client: { id: string; mode: string }; grantedScopes: readonly string[]; deviceId: string | undefined },
  now: number,
): PresenceClient {
  const client = isRecord(params) && isRecord(params.client) ? params.client : {};
  const text = (key: string): string | undefined => {
    const value = client[key];
    return typeof value === 'string' && value !== '' ? value.slice(0, MAX_FIELD_CHARS) : undefined;
  };
  const row: PresenceClient = { clientId: granted.client.id, mode: granted.client.mode, scopes: [...granted.grantedScopes], onlineSince: now };
  const version = text('version');
  const platform = text('platform');
  const deviceFamily = text('deviceFamily');
  const instanceId = text('instanceId');
  if (version !== undefined) row.version = version;
  if (platform !== undefined) row.platform = platform;
  if (deviceFamily !== undefined) row.deviceFamily = deviceFamily;
  if (instanceId !== undefined) row.instanceId = instanceId;
  if (granted.deviceId !== undefined) row.deviceId = granted.deviceId;
  return row;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
