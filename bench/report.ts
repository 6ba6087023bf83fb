/** Write the results: latest.json (every figure with its samples summary) and latest.md (the table). */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBudget, type EvaluatedFigure } from './figures.js';
import type { Summary } from './stats.js';

export interface BenchResults {
  startedAt: string;
  durationS: number;
  quick: boolean;
  node: string;
  platform: string;
  cpus: number;
  figures: EvaluatedFigure[];
  /** Figures whose verdict is fail. */
  failed: string[];
}

/** Write both files into `dir` (created if needed); returns their paths. */
export async function writeResults(dir: string, results: BenchResults): Promise<{ json: string; md: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'latest.json');
  const md = join(dir, 'latest.md');
  await writeFile(json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(md, renderMarkdown(results));
  return { json, md };
}

/** The results as a Markdown table with a short header. */
export function renderMarkdown(results: BenchResults): string {
  const lines = [
    `# Pincer benchmark${results.quick ? ' (quick)' : ''}`,
    '',
    `${results.startedAt} · Node ${results.node} · ${results.platform} · ${results.cpus} CPUs · ${results.durationS.toFixed(0)} s`,
    '',
    'Value is the median unless the figure says p99. Floor: a bare Node http + `ws` server doing the same',
    'challenge/connect/echo with no logic, measured in the same run. Median, p99 and min–max are Pincer\'s samples.',
    '',
    '| Figure | Value | Floor | Ratio | Budget | Verdict | Median | p99 | Min–max | n |',
    '|---|---:|---:|---:|---|---|---:|---:|---:|---:|',
  ];
  for (const figure of results.figures) {
    lines.push(
      `| ${figure.label} | ${num(figure.value)} ${figure.unit} | ${figure.floorValue === null ? '—' : num(figure.floorValue)} | ` +
        `${figure.ratio === null ? '—' : `${figure.ratio.toFixed(2)}×`} | ${describeBudget(figure.budget, figure.unit)} | ${figure.verdict} | ` +
        `${num(figure.pincer.median)} | ${num(figure.pincer.p99)} | ${spread(figure.pincer)} | ${figure.pincer.n} |`,
    );
  }
  const notes = results.figures.filter((figure) => figure.note !== undefined);
  if (notes.length > 0) {
    lines.push('');
    for (const figure of notes) lines.push(`- ${figure.label}: ${figure.note}`);
  }
  lines.push('', results.failed.length === 0 ? 'Every budget met.' : `Budgets missed: ${results.failed.join(', ')}.`, '');
  return lines.join('\n');
}

function spread(summary: Summary): string {
  return `${num(summary.min)}–${num(summary.max)}`;
}

/** Three significant digits, no exponent for the ranges seen here. */
function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
