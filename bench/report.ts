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
  /** With --peer: the gateway compared against and the Node it ran on. */
  peer?: { name: string; version: string; node: string };
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
  const own = results.figures.filter((figure) => figure.against === undefined);
  const lines = [
    `# Pincer benchmark${results.quick ? ' (quick)' : ''}`,
    '',
    `${results.startedAt} · Node ${results.node} · ${results.platform} · ${results.cpus} CPUs · ${results.durationS.toFixed(0)} s`,
    '',
  ];
  if (own.length > 0) {
    lines.push(
      'Value is the median unless the figure says p99. Floor: a bare Node http + `ws` server doing the same',
      'challenge/connect/echo with no logic, measured in the same run. Median, p99 and min–max are Pincer\'s samples.',
      '',
      '| Figure | Value | Floor | Ratio | Budget | Verdict | Median | p99 | Min–max | n |',
      '|---|---:|---:|---:|---|---|---:|---:|---:|---:|',
    );
  }
  for (const figure of own) {
    lines.push(
      `| ${figure.label} | ${num(figure.value)} ${figure.unit} | ${figure.floorValue === null ? '—' : num(figure.floorValue)} | ` +
        `${figure.ratio === null ? '—' : `${figure.ratio.toFixed(2)}×`} | ${describeBudget(figure.budget, figure.unit)} | ${figure.verdict} | ` +
        `${num(figure.pincer.median)} | ${num(figure.pincer.p99)} | ${spread(figure.pincer)} | ${figure.pincer.n} |`,
    );
  }
  pushNotes(lines, own);
  lines.push('', results.failed.length === 0 ? 'Every budget met.' : `Budgets missed: ${results.failed.join(', ')}.`, '');
  for (const peer of new Set(results.figures.flatMap((figure) => (figure.against === undefined ? [] : [figure.against])))) {
    lines.push(...renderPeerSection(peer, results.figures.filter((figure) => figure.against === peer), results.peer?.node));
  }
  return lines.join('\n');
}

/** One peer's figures: Pincer and the peer side by side with Pincer ÷ peer. */
function renderPeerSection(peer: string, figures: readonly EvaluatedFigure[], peerNode: string | undefined): string[] {
  const lines = [
    `## Pincer against ${peer}, same run`,
    '',
    `Both gateways started one at a time on this machine, in alternating order, with the same fake model${peerNode === undefined ? '' : ` (${peer} on Node ${peerNode}, which it requires)`}.`,
    `Ratio is Pincer ÷ ${peer}: below 1, Pincer is faster or smaller. RSS counts each gateway's process and the processes it started.`,
    '',
    `| Figure | Pincer | ${peer} | Pincer ÷ ${peer} | Pincer min–max | ${peer} min–max | n |`,
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const figure of figures) {
    lines.push(
      `| ${figure.label} | ${num(figure.value)} ${figure.unit} | ${figure.floorValue === null ? '—' : `${num(figure.floorValue)} ${figure.unit}`} | ` +
        `${figure.ratio === null ? '—' : `${figure.ratio.toFixed(figure.ratio < 0.1 ? 3 : 2)}×`} | ${spread(figure.pincer)} | ` +
        `${figure.floor === undefined ? '—' : spread(figure.floor)} | ${figure.pincer.n} |`,
    );
  }
  pushNotes(lines, figures);
  lines.push('');
  return lines;
}

function pushNotes(lines: string[], figures: readonly EvaluatedFigure[]): void {
  const notes = figures.filter((figure) => figure.note !== undefined);
  if (notes.length === 0) return;
  lines.push('');
  for (const figure of notes) lines.push(`- ${figure.label}: ${figure.note}`);
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
