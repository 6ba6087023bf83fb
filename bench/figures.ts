/**
 * One benchmark figure: Pincer's value, the floor's value measured in the
 * same run, and the budget it is held to (issue 9).
 */

import type { Summary } from './stats.js';

/** Which statistic of the samples is the figure's value. */
export type Statistic = 'median' | 'p99';

/**
 * A budget. `ratio-max`/`ratio-min` compare the value with the floor's
 * (value ≤ limit × floor, value ≥ limit × floor); `abs-max` is an absolute
 * ceiling in the figure's unit.
 */
export type Budget = { kind: 'ratio-max'; limit: number } | { kind: 'ratio-min'; limit: number } | { kind: 'abs-max'; limit: number };

export type Verdict = 'pass' | 'fail' | 'info';

export interface Figure {
  id: string;
  label: string;
  unit: string;
  statistic: Statistic;
  pincer: Summary;
  floor?: Summary;
  budget?: Budget;
  /** Free text shown under the table (what exactly was measured). */
  note?: string;
  /**
   * Set when `floor` holds a peer gateway's value rather than the floor
   * server's: the peer's name and version, e.g. "OpenClaw 2026.9.6". Such
   * figures get their own table, ratio Pincer ÷ peer.
   */
  against?: string;
}

export interface EvaluatedFigure extends Figure {
  value: number;
  floorValue: number | null;
  ratio: number | null;
  verdict: Verdict;
}

/** Attach value, floor value, ratio and verdict. */
export function evaluateFigure(figure: Figure): EvaluatedFigure {
  const value = figure.pincer[figure.statistic];
  const floorValue = figure.floor === undefined ? null : figure.floor[figure.statistic];
  const ratio = floorValue === null || floorValue === 0 ? null : value / floorValue;
  return { ...figure, value, floorValue, ratio, verdict: verdictOf(figure.budget, value, ratio) };
}

function verdictOf(budget: Budget | undefined, value: number, ratio: number | null): Verdict {
  if (budget === undefined) return 'info';
  if (!Number.isFinite(value)) return 'fail';
  switch (budget.kind) {
    case 'abs-max':
      return value <= budget.limit ? 'pass' : 'fail';
    case 'ratio-max':
      return ratio !== null && ratio <= budget.limit ? 'pass' : 'fail';
    case 'ratio-min':
      return ratio !== null && ratio >= budget.limit ? 'pass' : 'fail';
  }
}

/** Budget as table text, e.g. "≤ 1.5× floor". */
export function describeBudget(budget: Budget | undefined, unit: string): string {
  if (budget === undefined) return '—';
  switch (budget.kind) {
    case 'abs-max':
      return `≤ ${budget.limit} ${unit}`;
    case 'ratio-max':
      return `≤ ${budget.limit}× floor`;
    case 'ratio-min':
      return `≥ ${budget.limit}× floor`;
  }
}
