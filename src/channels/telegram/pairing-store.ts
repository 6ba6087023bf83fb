/**
 * DM pairing (OpenClaw's rules): an unknown sender gets an 8-character code
 * (no 0, O, 1 or I) that expires after an hour; at most three requests wait
 * at a time. The operator approves a code; approved sender ids persist in
 * `<stateDir>/telegram/pairing.json` (0600).
 */

import { randomInt } from 'node:crypto';
import { openJsonStateFile } from './json-state-file.js';

export const PAIRING_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const PAIRING_CODE_CHARS = 8;
/** A code is valid this long, ms. */
export const PAIRING_TTL_MS = 60 * 60 * 1000;
/** Requests waiting at once; more are ignored until one expires or is approved. */
export const MAX_PENDING_REQUESTS = 3;

export interface PendingPairing {
  code: string;
  senderId: string;
  meta: Record<string, string>;
  createdAtMs: number;
}

interface PairingState {
  pending: PendingPairing[];
  approved: { senderId: string; approvedAtMs: number }[];
}

export type PairingRequestResult =
  /** A new code: send it to the sender. */
  | { kind: 'created'; code: string }
  /** The sender already holds a live code: say nothing again. */
  | { kind: 'existing'; code: string }
  /** Too many requests are waiting. */
  | { kind: 'full' };

export interface PairingStore {
  isApproved(senderId: string): boolean;
  request(senderId: string, meta: Record<string, string>): Promise<PairingRequestResult>;
  /** Live requests, oldest first. */
  pending(): PendingPairing[];
  /** Approve a code (case-insensitive); undefined when no live request has it. */
  approve(code: string): Promise<PendingPairing | undefined>;
}

/** Load the store at `path`. */
export async function openPairingStore(path: string, now: () => number = Date.now): Promise<PairingStore> {
  const file = openJsonStateFile<PairingState>(path, () => ({ pending: [], approved: [] }));
  const state = await file.read();
  const approved = new Set(state.approved.map((entry) => entry.senderId));
  const live = (): PendingPairing[] => state.pending.filter((entry) => now() - entry.createdAtMs < PAIRING_TTL_MS);
  return {
    isApproved: (senderId) => approved.has(senderId),
    pending: () => live(),
    async request(senderId, meta) {
      state.pending = live();
      const existing = state.pending.find((entry) => entry.senderId === senderId);
      if (existing !== undefined) return { kind: 'existing', code: existing.code };
      if (state.pending.length >= MAX_PENDING_REQUESTS) return { kind: 'full' };
      let code = newCode();
      while (state.pending.some((entry) => entry.code === code)) code = newCode();
      state.pending.push({ code, senderId, meta, createdAtMs: now() });
      await file.write(state);
      return { kind: 'created', code };
    },
    async approve(code) {
      state.pending = live();
      const wanted = code.trim().toUpperCase();
      const entry = state.pending.find((candidate) => candidate.code === wanted);
      if (entry === undefined) return undefined;
      state.pending = state.pending.filter((candidate) => candidate !== entry);
      if (!approved.has(entry.senderId)) {
        approved.add(entry.senderId);
        state.approved.push({ senderId: entry.senderId, approvedAtMs: now() });
      }
      await file.write(state);
      return entry;
    },
  };
}

function newCode(): string {
  let code = '';
  for (let i = 0; i < PAIRING_CODE_CHARS; i++) code += PAIRING_CODE_ALPHABET[randomInt(PAIRING_CODE_ALPHABET.length)];
  return code;
}
