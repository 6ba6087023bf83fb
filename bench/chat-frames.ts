/** Cheap recognition of `chat` event frames from their raw bytes (no JSON parse per frame). */

const CHAT_PREFIX = Buffer.from('{"type":"event","event":"chat",');

export type ChatState = 'delta' | 'final' | 'error' | 'aborted';
const STATES: ChatState[] = ['delta', 'final', 'error', 'aborted'];
const MARKERS = STATES.map((state) => Buffer.from(`"state":"${state}"`));

/** The `state` of a chat event frame, or undefined for any other event. */
export function chatStateOf(frame: Buffer): ChatState | undefined {
  if (frame.length < CHAT_PREFIX.length || frame.compare(CHAT_PREFIX, 0, CHAT_PREFIX.length, 0, CHAT_PREFIX.length) !== 0) return undefined;
  for (let i = 0; i < STATES.length; i++) if (frame.includes(MARKERS[i])) return STATES[i];
  return undefined;
}

/** The runId of a chat event frame (parses it: call only on the few terminal frames). */
export function chatRunIdOf(frame: Buffer): string | undefined {
  const parsed = JSON.parse(frame.toString('utf8')) as { payload?: { runId?: unknown; errorMessage?: unknown } };
  return typeof parsed.payload?.runId === 'string' ? parsed.payload.runId : undefined;
}

/** A chat error frame's message, for a clear failure. */
export function chatErrorOf(frame: Buffer): string {
  const parsed = JSON.parse(frame.toString('utf8')) as { payload?: { errorMessage?: unknown } };
  return String(parsed.payload?.errorMessage ?? 'chat run failed');
}
