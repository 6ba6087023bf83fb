/**
 * Shared pieces of the browser tests: Debian's chromium through playwright-core,
 * a fresh build of the web chat in a temp dir, screenshots in test-artifacts/,
 * and a watch on page errors and CSP violations.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const LAUNCH_TIMEOUT_MS = 20_000;
const BUILD_TIMEOUT_MS = 30_000;

/** The skip message when the browser is absent, else undefined (run the tests). */
export function chromiumSkipReason(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `browser tests skipped: ${CHROMIUM_PATH} not found (apt-get install -y chromium)`;
}

/** The repository root, found from this file both under test/ (tsx) and dist/test/ (build). */
export function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'scripts', 'build-web.mjs'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (package.json + scripts/build-web.mjs)');
    dir = parent;
  }
}

/** Build the web chat from src/web into a new temp dir; `remove` deletes it. */
export async function buildWebAssets(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pincer-web-build-'));
  await runBuildWeb(['--outdir', dir]);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Make sure the gateway's default web dir (dist/web) holds the current page.
 * `npm test` builds it before the tests; a tsx run of the sources rebuilds it here.
 */
export async function ensureDefaultWebBuild(): Promise<void> {
  if (import.meta.url.endsWith('.ts')) await runBuildWeb([]);
}

function runBuildWeb(args: string[]): Promise<void> {
  const root = findRepoRoot();
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'build-web.mjs'), ...args], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`build-web failed (${code}): ${stderr}`));
    });
  });
}

/** Headless Debian chromium with the flags CI uses. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: LAUNCH_TIMEOUT_MS });
}

/** Save a full-page screenshot as test-artifacts/web/<name>.png (gitignored). */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  const dir = path.join(findRepoRoot(), 'test-artifacts', 'web');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/**
 * Collect uncaught page errors, console errors and CSP violations; tests assert the list stays empty.
 * `allow` filters expected console errors (e.g. a refused WebSocket during a reconnect test).
 */
export function watchPageProblems(page: Page, allow: RegExp[] = []): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (!allow.some((pattern) => pattern.test(text))) problems.push(`console: ${text}`);
  });
  return problems;
}
