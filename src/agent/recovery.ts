/**
 * Start-up repair after a crash: a run cut by the process dying left a user
 * message with no closing assistant row. Append one marked `interrupted`, so
 * history shows what happened instead of a silent gap (issue 6, item 1). Also
 * collect the runs of the idempotency window, so a key replayed after the
 * restart answers with its original run (issue 13, items 1 and 2).
 *
 * Only sessions that can hold such runs are read: those with open runs (the
 * store keeps that set exact) and those written within the window. So the
 * time taken grows with recent activity, not with all history ever stored.
 */

import { randomUUID } from 'node:crypto';

import type { RunStatus } from './types.js';
import { messageText } from '../messages/message-text.js';
import type { SessionStore, StoredMessage } from '../sessions/types.js';
import { closesRun } from '../sessions/open-runs.js';

/** Text of the assistant row that closes an interrupted run. */
export const INTERRUPTED_TEXT = '[interrupted: the gateway stopped during this reply]';
/** Sessions checked at the same time. */
const RECOVERY_CONCURRENCY = 8;

/** A run of the idempotency window, for idempotency across restarts. */
export interface RecentRun {
  runId: string;
  sessionKey: string;
  status: RunStatus;
  stopReason: string;
  userMessage: StoredMessage;
  endedAt: number;
  text: string;
  error?: string;
}

export interface RecoveryResult {
  /** Interrupted-run rows appended, per session key. */
  appended: { sessionKey: string; message: StoredMessage }[];
  /** Runs whose user message is newer than `since`, with how they ended. */
  recent: RecentRun[];
  /** Sessions whose history was read. */
  sessionsRead: number;
}

/**
 * Close every run of every session whose user message has no terminal
 * assistant row, and list the runs started since `since`. `skip` lists runIds
 * that are live in this process and must be left alone.
 */
export async function repairInterruptedRuns(
  store: SessionStore,
  options: { since: number; skip?: ReadonlySet<string>; onError?: (sessionKey: string, error: unknown) => void },
): Promise<RecoveryResult> {
  const result: RecoveryResult = { appended: [], recent: [], sessionsRead: 0 };
  const withOpenRuns = store.openRuns === undefined ? undefined : new Set(store.openRuns().map((entry) => entry.sessionKey));
  const keys = store
    .list()
    .filter((meta) => withOpenRuns === undefined || withOpenRuns.has(meta.key) || meta.updatedAt >= options.since)
    .map((meta) => meta.key);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      try {
        result.sessionsRead += 1;
        await repairSession(store, key, options.since, options.skip, result);
      } catch (error) {
        // One unreadable or unwritable session must not stop start-up.
        options.onError?.(key, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(RECOVERY_CONCURRENCY, keys.length) }, worker));
  return result;
}

async function repairSession(
  store: SessionStore,
  sessionKey: string,
  since: number,
  skip: ReadonlySet<string> | undefined,
  result: RecoveryResult,
): Promise<void> {
  const { messages } = await store.history(sessionKey);
  const closing = new Map<string, StoredMessage>();
  for (const m of messages) if (closesRun(m)) closing.set(m.runId as string, m);
  for (const user of messages) {
    if (user.role !== 'user' || user.runId === undefined || skip?.has(user.runId)) continue;
    let end = closing.get(user.runId);
    if (end === undefined) {
      // What the user saw stream before the crash, as last checkpointed (issue 13, item 3).
      const partial = (await store.partialReply?.(sessionKey, user.runId)) ?? '';
      end = {
        id: randomUUID(),
        role: 'assistant',
        content: [{ type: 'text', text: partial === '' ? INTERRUPTED_TEXT : partial }],
        timestamp: Date.now(),
        runId: user.runId,
        stopReason: 'interrupted',
        errorMessage: 'the gateway stopped during this reply',
      };
      await store.append(sessionKey, end);
      result.appended.push({ sessionKey, message: end });
    }
    if (user.timestamp >= since) result.recent.push(recentRun(sessionKey, user, end));
  }
}

function recentRun(sessionKey: string, user: StoredMessage, end: StoredMessage): RecentRun {
  const stopReason = end.stopReason ?? 'stop';
  const status: RunStatus = stopReason === 'aborted' ? 'aborted' : stopReason === 'error' || stopReason === 'interrupted' ? 'error' : 'ok';
  const text = messageText(end);
  const run: RecentRun = { runId: user.runId as string, sessionKey, status, stopReason, userMessage: user, endedAt: end.timestamp, text };
  if (status === 'error') run.error = end.errorMessage ?? 'the run failed';
  return run;
}
