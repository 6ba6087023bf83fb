/**
 * The session summary the Control UI's chat view reads with a page of history
 * (chat.startup `sessionInfo` and `defaults`): the sessions.list row, or for a
 * session that does not exist yet its key, agent and model, plus the flags
 * OpenClaw sets and Pincer has no feature behind (archived, pinned, unread).
 */

import type { RunRecord } from '../../agent/types.js';
import type { Assistant } from '../../assistant/types.js';
import { parseSessionKey } from '../../sessions/session-key.js';
import type { SessionMeta } from '../../sessions/types.js';
import { shapeSessionRow, type SessionDefaults } from './message-shape.js';

/** `defaults` of chat.startup and chat.history: the model a session without its own choice uses. */
export function shapeChatDefaults(defaults: SessionDefaults): Record<string, unknown> {
  return { modelProvider: defaults.provider, model: defaults.model, contextTokens: defaults.contextTokens, modelSelectionTarget: 'session' };
}

export interface SessionInfoOptions {
  defaults: SessionDefaults;
  /** The session's live runs (none when idle). */
  activeRuns: readonly RunRecord[];
  /** Sampling time, epoch ms. */
  now: number;
}

/** `sessionInfo` for one session key; `meta` is undefined for a session that does not exist yet. */
export function shapeSessionInfo(key: string, meta: SessionMeta | undefined, options: SessionInfoOptions): Record<string, unknown> {
  const { agentId, rest } = parseSessionKey(key);
  const isMain = rest === 'main';
  const hasActiveRun = options.activeRuns.length > 0;
  const row: Record<string, unknown> =
    meta === undefined
      ? { key, agentId, model: options.defaults.model, modelProvider: options.defaults.provider, contextTokens: options.defaults.contextTokens, updatedAt: null, hasActiveRun }
      : { ...shapeSessionRow(meta, { defaults: options.defaults, includeDerivedTitle: true, hasActiveRun }) };
  return {
    ...row,
    kind: 'direct',
    classification: isMain ? 'main' : 'direct',
    chatType: 'direct',
    isMain,
    isBackground: false,
    archived: false,
    pinned: false,
    unread: false,
    permissionModePending: false,
    modelOverrideSource: meta?.model === undefined ? null : 'session',
    runtimeSelectionLocked: false,
    activeRunIds: options.activeRuns.map((run) => run.runId),
    snapshotAt: options.now,
  };
}

/**
 * The fields chat.startup adds to a page of messages for the Control UI's chat view: `pendingInputs`, `defaults`, `sessionInfo` and, while a
 * run is live, `inFlightRun` (its text comes with the run's next delta, which carries it all).
 */
export function chatViewFields(assistant: Assistant, sessionKey: string, defaults: SessionDefaults, now: number): Record<string, unknown> {
  const runs = assistant.activeRuns(sessionKey);
  const fields: Record<string, unknown> = {
    // A message is on disk before chat.send answers, so no input ever waits outside the transcript.
    pendingInputs: { items: [], total: 0 },
    defaults: shapeChatDefaults(defaults),
    sessionInfo: shapeSessionInfo(sessionKey, assistant.describe(sessionKey), { defaults, activeRuns: runs, now }),
  };
  const running = runs.at(-1);
  if (running !== undefined) fields.inFlightRun = { runId: running.runId, text: '', startedAt: running.startedAt };
  return fields;
}
