/**
 * Sizes of the reliability tests. CI runs the short variants; `npm run soak`
 * sets PINCER_SOAK=1 for the long ones. Each count can also be set on its own
 * (PINCER_SOAK_<NAME>=n), and PINCER_SOAK_SEED changes the random seed.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** True under `npm run soak`. */
export const SOAK = process.env.PINCER_SOAK === '1';

/** Seed of every random choice in these tests (kill moments, fuzz frames). */
export const SEED = readInt('SEED') ?? 6_2026;

/** `ci` in the default run, `soak` under PINCER_SOAK=1, or PINCER_SOAK_<NAME> when set. */
export function soakCount(name: string, ci: number, soak: number): number {
  return readInt(name) ?? (SOAK ? soak : ci);
}

/** A per-test time bound that grows with the work it covers, ms. */
export function boundMs(baseMs: number, units: number, perUnitMs: number): number {
  return baseMs + units * perUnitMs;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a failing round can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A full garbage collection, without starting node with --expose-gc: the flag
 * is set at run time and `gc` taken from a fresh context (the V8 global it adds).
 */
export function collectGarbage(): void {
  gcFunction ??= loadGc();
  gcFunction();
  gcFunction();
}

let gcFunction: (() => void) | undefined;

function loadGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function readInt(name: string): number | undefined {
  const raw = process.env[`PINCER_SOAK_${name}`];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`PINCER_SOAK_${name} must be a non-negative integer, got ${raw}`);
  return value;
}
