/**
 * Visit each page of the Control UI and sort it: `ok` (rendered, no error),
 * `empty` (rendered, but an empty state or calls Pincer answered with an
 * error), `error` (a page error, or error text where the content should be),
 * `redirect` (the app sent the route elsewhere).
 */

import type { Page } from 'playwright-core';
import type { UiSession } from './ui-session.js';

/** The UI's routes (its sidebar, its settings sidebar and the pages they lead to). */
export const PAGES: readonly string[] = [
  '/chat/main',
  '/new',
  '/agents',
  '/sessions',
  '/dashboards',
  '/systems',
  '/automations',
  '/tasks',
  '/plugins',
  '/skills',
  '/usage',
  '/logs',
  '/activity',
  '/settings',
  '/settings/general',
  '/settings/profile',
  '/settings/appearance',
  '/settings/connection',
  '/settings/agents',
  '/settings/model-providers',
  '/settings/channels',
  '/settings/approvals',
  '/settings/automation',
  '/settings/devices',
  '/settings/security',
  '/settings/secrets',
  '/settings/notifications',
  '/settings/memory',
  '/settings/skills',
  '/settings/mcp',
  '/settings/plugins',
  '/settings/talk',
  '/settings/updates',
  '/settings/advanced',
  '/settings/about',
];

/** How long a page may keep loading before it is judged, ms. */
const SETTLE_MS = 4_000;
const ERROR_TEXT = /unknown method|something went wrong|failed to load|could not load|couldn['’]t load|error loading/i;
const EMPTY_TEXT = /\bno [a-z ]{0,30}(yet|found|available|configured|connected)\b|nothing (here|to show|yet)|\bempty\b|not available/i;
/** Console noise that says nothing about Pincer (the favicon of a data: URL, a 404 already counted as http). */
const CONSOLE_NOISE = /Failed to load resource: the server responded with a status of 404/;

export interface PageRow {
  page: string;
  status: 'ok' | 'empty' | 'error' | 'redirect';
  failedMethods: string[];
  consoleErrors: number;
  note: string;
}

export async function tourPages(page: Page, session: UiSession, base: string): Promise<PageRow[]> {
  const rows: PageRow[] = [];
  session.current = 'boot';
  await page.goto(`${base}/chat/main`, { waitUntil: 'domcontentloaded', timeout: 30_000 });
  await page.waitForTimeout(SETTLE_MS);
  for (const route of PAGES) {
    session.current = route;
    const failureMark = session.failures.length;
    const problemMark = session.problems.length;
    let navigationError = '';
    let redirectedTo = '';
    try {
      // In-app navigation, as a click in the sidebar does: only this page's own calls are counted, not a new boot's.
      await page.evaluate((url) => {
        history.pushState(null, '', url);
        dispatchEvent(new PopStateEvent('popstate', { state: null }));
      }, `${new URL(base).pathname}${route}`);
      await page.waitForTimeout(SETTLE_MS);
      const landed = new URL(page.url()).pathname;
      if (!landed.endsWith(route)) redirectedTo = landed;
    } catch (error) {
      navigationError = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    }
    const text = await mainText(page);
    const failures = session.failuresSince(failureMark);
    const problems = session.problemsSince(problemMark);
    const pageErrors = problems.filter((problem) => problem.kind === 'pageerror');
    const consoleErrors = problems.filter((problem) => problem.kind === 'console' && !CONSOLE_NOISE.test(problem.text));
    const errorText = ERROR_TEXT.exec(text)?.[0];
    const emptyText = EMPTY_TEXT.exec(text)?.[0];
    const failedMethods = [...new Set(failures.map((failure) => failure.method))].sort();
    const status: PageRow['status'] =
      navigationError || pageErrors.length > 0 || errorText !== undefined
        ? 'error'
        : redirectedTo
          ? 'redirect'
          : emptyText !== undefined || failedMethods.length > 0
            ? 'empty'
            : 'ok';
    const note = navigationError || (redirectedTo && `the app shows ${redirectedTo} instead`) || pageErrors[0]?.text || (errorText && snippet(text, errorText)) || (emptyText && snippet(text, emptyText)) || consoleErrors[0]?.text || '';
    rows.push({ page: route, status, failedMethods, consoleErrors: consoleErrors.length, note });
    process.stdout.write(`  ${status.padEnd(5)} ${route}\n`);
  }
  return rows;
}

/** The main region's text (the app renders into shadow roots; innerText crosses them for visible text). */
async function mainText(page: Page): Promise<string> {
  try {
    return await page.locator('#control-ui-main').first().innerText({ timeout: 2_000 });
  } catch {
    return page.evaluate(() => document.body.innerText).catch(() => '');
  }
}

function snippet(text: string, match: string): string {
  const at = text.indexOf(match);
  return text.slice(Math.max(0, at - 30), at + match.length + 50).replace(/\s+/g, ' ').trim();
}

/** A Markdown table of the rows, and a count per status. */
export function formatPageTable(rows: readonly PageRow[]): string {
  const lines = ['', '| Page | Status | Methods answered with an error | Console errors | Note |', '|---|---|---|---|---|'];
  for (const row of rows) {
    const methods = row.failedMethods.join(', ') || '—';
    lines.push(`| ${row.page} | ${row.status} | ${methods} | ${row.consoleErrors} | ${row.note.replace(/\|/g, '/').slice(0, 120)} |`);
  }
  const count = (status: PageRow['status']) => rows.filter((row) => row.status === status).length;
  lines.push('', `Pages: ${rows.length}; ok ${count('ok')}, empty state ${count('empty')}, error ${count('error')}, redirected ${count('redirect')}`);
  return lines.join('\n');
}
