/**
 * Exactly-once bookkeeping for updates, in `<stateDir>/telegram/ingress.json`:
 * the polling offset, the recent update ids (webhook redeliveries), and the
 * replies still owed. An update is acknowledged (offset moved, or the webhook
 * answered 200) only after its turn is on disk and its owed reply recorded
 * here, so a restart neither loses nor repeats it; each message sent for a
 * reply is recorded, so a resumed reply edits it instead of sending again.
 */

import { openJsonStateFile } from './json-state-file.js';

/** Update ids remembered for redelivery checks. */
export const RECENT_UPDATE_IDS = 1000;

/** A reply the channel owes a chat. */
export interface OwedReply {
  updateId: number;
  runId: string;
  sessionKey: string;
  chatId: number;
  /** The user's message, which the reply answers. */
  replyTo?: number;
  /** Messages already sent for this reply, in order. */
  messageIds: number[];
}

interface LedgerState {
  /** Next update id to ask getUpdates for; null before the first. */
  offset: number | null;
  recent: number[];
  owed: OwedReply[];
}

export interface IngressLedger {
  readonly offset: number | null;
  /** True for an update already handled. */
  seen(updateId: number): boolean;
  /** Mark an update handled (with the reply it owes, if any) and move the offset past it. */
  accept(updateId: number, owed?: OwedReply): Promise<void>;
  /** Record the messages sent so far for a reply. */
  recordMessages(runId: string, messageIds: number[]): Promise<void>;
  /** The reply is complete: forget it. */
  settle(runId: string): Promise<void>;
  owed(): OwedReply[];
}

export async function openIngressLedger(path: string): Promise<IngressLedger> {
  const file = openJsonStateFile<LedgerState>(path, () => ({ offset: null, recent: [], owed: [] }));
  const state = await file.read();
  const recent = new Set(state.recent);
  return {
    get offset() {
      return state.offset;
    },
    seen: (updateId) => recent.has(updateId),
    async accept(updateId, owed) {
      recent.add(updateId);
      state.recent.push(updateId);
      if (state.recent.length > RECENT_UPDATE_IDS) recent.delete(state.recent.shift() as number);
      if (state.offset === null || updateId >= state.offset) state.offset = updateId + 1;
      if (owed !== undefined && !state.owed.some((entry) => entry.runId === owed.runId)) state.owed.push(owed);
      await file.write(state);
    },
    async recordMessages(runId, messageIds) {
      const entry = state.owed.find((candidate) => candidate.runId === runId);
      if (entry === undefined) return;
      entry.messageIds = [...messageIds];
      await file.write(state);
    },
    async settle(runId) {
      const before = state.owed.length;
      state.owed = state.owed.filter((entry) => entry.runId !== runId);
      if (state.owed.length !== before) await file.write(state);
    },
    owed: () => state.owed.map((entry) => ({ ...entry, messageIds: [...entry.messageIds] })),
  };
}
