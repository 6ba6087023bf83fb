/**
 * The heartbeat (OpenClaw's agent.heartbeat): every `everyMs` the agent gets
 * a turn with the workspace's HEARTBEAT.md, in its own session
 * (`agent:main:heartbeat`) so routine checks stay out of the main chat. A
 * reply with something to say is posted to the main session; a reply that is
 * only the acknowledgement token (HEARTBEAT_OK, or NO_REPLY) is not
 * delivered. Outside `activeHours` the beat is skipped. Each outcome is a
 * `heartbeat` event; `last-heartbeat` reports the latest.
 */

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HeartbeatEventPayload, SchedulerEvent } from '../bus/scheduler-events.js';
import type { HeartbeatConfig } from '../config/schema.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { SILENT_REPLY_TOKEN } from './delivery.js';
import type { SessionTurns } from './session-turns.js';

/** The acknowledgement a heartbeat reply starts or ends with when nothing needs attention. */
export const HEARTBEAT_ACK_TOKEN = 'HEARTBEAT_OK';
/** An acknowledged reply may carry this much other text and still count as an acknowledgement (OpenClaw's budget). */
export const ACK_MAX_EXTRA_CHARS = 300;
export const HEARTBEAT_FILE_NAME = 'HEARTBEAT.md';
export const HEARTBEAT_SESSION_KEY = 'agent:main:heartbeat';
/** Characters of a delivered reply kept in the event's `preview`. */
const PREVIEW_CHARS = 200;
/** Longest HEARTBEAT.md read into the prompt, characters. */
const MAX_HEARTBEAT_FILE_CHARS = 64_000;

export const DEFAULT_HEARTBEAT_PROMPT =
  `This is a scheduled heartbeat. Check the list below (from ${HEARTBEAT_FILE_NAME} in the workspace) for anything that needs ` +
  `the user's attention now. Do not repeat earlier tasks on your own. If nothing needs attention, reply with exactly ${HEARTBEAT_ACK_TOKEN}.`;

export interface HeartbeatDeps {
  config: HeartbeatConfig;
  workspaceDir: string;
  turns: SessionTurns;
  mainSessionKey: string;
  publish(event: SchedulerEvent): void;
  clock?: Clock;
  logger?: { warn(message: string, fields?: Record<string, unknown>): void };
}

export interface Heartbeat {
  last(): HeartbeatEventPayload | null;
  /** Run one beat now (tests, manual wakes); resolves with its outcome. */
  beat(): Promise<HeartbeatEventPayload>;
  stop(): void;
}

/** Start beating every `config.everyMs` (> 0), first one period from now. */
export function startHeartbeat(deps: HeartbeatDeps): Heartbeat {
  const clock = deps.clock ?? systemClock;
  let last: HeartbeatEventPayload | null = null;
  let running: Promise<HeartbeatEventPayload> | undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;

  const emit = (payload: HeartbeatEventPayload): HeartbeatEventPayload => {
    last = payload;
    deps.publish({ type: 'heartbeat', payload });
    return payload;
  };

  async function runBeat(): Promise<HeartbeatEventPayload> {
    const startedAt = clock.now();
    const done = (fields: Omit<HeartbeatEventPayload, 'ts' | 'durationMs'>) => emit({ ts: clock.now(), durationMs: Math.max(0, clock.now() - startedAt), ...fields });
    if (!withinActiveHours(deps.config.activeHours, startedAt)) return done({ status: 'skipped', reason: 'quiet-hours' });
    const checklist = await readChecklist(join(deps.workspaceDir, HEARTBEAT_FILE_NAME));
    if (checklist !== undefined && isEffectivelyEmpty(checklist)) return done({ status: 'skipped', reason: 'empty-heartbeat-file' });
    const prompt = [deps.config.prompt ?? DEFAULT_HEARTBEAT_PROMPT, checklist].filter((part) => part !== undefined && part.trim() !== '').join('\n\n');
    try {
      const turn = await deps.turns.runTurn({ sessionKey: HEARTBEAT_SESSION_KEY, text: prompt, runId: `heartbeat-${randomUUID()}` });
      if (turn.status !== 'ok') return done({ status: 'failed', reason: turn.error ?? `run ${turn.status}`, indicatorType: 'error' });
      const reply = stripAck(turn.text);
      if (reply.acknowledged) return done({ status: reply.text === '' && turn.text.trim() === '' ? 'ok-empty' : 'ok-token', indicatorType: 'ok' });
      await deps.turns.postMessage(deps.mainSessionKey, reply.text);
      return done({ status: 'sent', to: deps.mainSessionKey, preview: reply.text.slice(0, PREVIEW_CHARS), indicatorType: 'alert' });
    } catch (error) {
      deps.logger?.warn('heartbeat failed', { err: String(error) });
      return done({ status: 'failed', reason: error instanceof Error ? error.message : String(error), indicatorType: 'error' });
    }
  }

  function beat(): Promise<HeartbeatEventPayload> {
    // Never two at once: a beat that comes due while one runs is skipped.
    if (running !== undefined) return Promise.resolve(emit({ ts: clock.now(), status: 'skipped', reason: 'in-flight' }));
    running = runBeat().finally(() => (running = undefined));
    return running;
  }

  function arm(): void {
    if (stopped) return;
    timer = clock.setTimer(() => {
      void beat();
      arm();
    }, deps.config.everyMs);
  }

  arm();
  return {
    last: () => last,
    beat,
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}

/**
 * The reply without a leading or trailing acknowledgement token. `acknowledged`
 * when the reply was empty, the silent token, or the token plus at most ACK_MAX_EXTRA_CHARS.
 */
export function stripAck(text: string): { acknowledged: boolean; text: string } {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === SILENT_REPLY_TOKEN) return { acknowledged: true, text: '' };
  let rest = trimmed;
  if (rest.startsWith(HEARTBEAT_ACK_TOKEN)) rest = rest.slice(HEARTBEAT_ACK_TOKEN.length);
  else if (rest.endsWith(HEARTBEAT_ACK_TOKEN)) rest = rest.slice(0, -HEARTBEAT_ACK_TOKEN.length);
  else return { acknowledged: false, text: trimmed };
  rest = rest.replace(/^[\s.:!,-]+|[\s.:!,-]+$/g, '');
  return rest.length <= ACK_MAX_EXTRA_CHARS ? { acknowledged: true, text: rest } : { acknowledged: false, text: trimmed };
}

/** True when `now` falls in the local-time window (start inclusive, end exclusive); no window means always. */
export function withinActiveHours(window: HeartbeatConfig['activeHours'], now: number): boolean {
  if (window === undefined) return true;
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start === end) return false;
  const parts = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(window.timezone === undefined ? {} : { timeZone: window.timezone }) }).formatToParts(new Date(now));
  const hour = Number(parts.find((part) => part.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((part) => part.type === 'minute')?.value ?? 0);
  const current = hour * 60 + minute;
  return start < end ? current >= start && current < end : current >= start || current < end;
}

function minutesOf(clock: string): number {
  const [hours, minutes] = clock.split(':').map(Number);
  return hours * 60 + minutes;
}

/** Headings, blank lines, comments and empty checklist items only: nothing to check. */
function isEffectivelyEmpty(text: string): boolean {
  const withoutComments = text.replace(/<!--[\s\S]*?-->/g, '');
  return withoutComments.split('\n').every((line) => {
    const trimmed = line.trim();
    return trimmed === '' || /^#+(\s|$)/.test(trimmed) || /^```/.test(trimmed) || /^[-*+]\s*(\[[ xX]?\])?\s*$/.test(trimmed);
  });
}

async function readChecklist(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).slice(0, MAX_HEARTBEAT_FILE_CHARS);
  } catch {
    return undefined;
  }
}
