/**
 * Method and event names the channel reports in `hello-ok.features`
 * (docs/protocol.md §2.4, §4).
 */

/** The handshake method; never listed in `features.methods`. */
export const CONNECT_METHOD = 'connect';

export const EVENT_CONNECT_CHALLENGE = 'connect.challenge';
export const EVENT_TICK = 'tick';
export const EVENT_SHUTDOWN = 'shutdown';

/** Every event name the OpenClaw channel may emit (§4). */
export const CHANNEL_EVENTS: readonly string[] = [
  EVENT_CONNECT_CHALLENGE,
  'chat',
  'agent',
  EVENT_TICK,
  'sessions.changed',
  'session.message',
  'cron',
  'heartbeat',
  EVENT_SHUTDOWN,
];

/** `features.methods`: the implemented method names, without `connect`. */
export function listFeatureMethods(names: Iterable<string>): string[] {
  const out: string[] = [];
  for (const name of names) if (name !== CONNECT_METHOD && !out.includes(name)) out.push(name);
  return out;
}
