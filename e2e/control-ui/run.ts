/**
 * `npm run e2e:control-ui`: OpenClaw's official Control UI (the static build
 * in the `openclaw` npm package, fetched into a cache outside the repository)
 * served by Pincer with a fake model on loopback, driven in headless Chromium
 * through the chat flow, then through every page; prints the flow's steps and
 * a table of the pages. Exits 1 when a chat step fails.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startFakeModelServer, type FakeModelServer, type RecordedRequest } from '../../test/helpers/fake-model-server.js';
import { startGateway, type StartedGateway } from '../../test/helpers/start-gateway.js';
import { chromiumSkipReason, launchChromium } from '../../test/web/browser-helpers.js';
import { ensureControlUiBuild } from './fetch-openclaw.js';
import { PAGES, tourPages, formatPageTable } from './page-tour.js';
import { UiSession } from './ui-session.js';

const BASE_PATH = '/openclaw';
/** Bound of each wait for something to show in the UI, ms. */
const STEP_WAIT_MS = 30_000;
const FIRST_MESSAGE = 'Hello from the Control UI end-to-end run';
const SECOND_MESSAGE = 'A second session, please';

interface StepResult {
  step: string;
  ok: boolean;
  detail: string;
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** The fake model answers "Reply to: <the user's last text>", streamed in small chunks. */
function replyTo(text: string): string {
  return `Reply to: ${text}`;
}

function lastUserText(request: RecordedRequest): string {
  const messages = Array.isArray(request.body.messages) ? (request.body.messages as { role?: string; content?: unknown }[]) : [];
  const last = [...messages].reverse().find((message) => message.role === 'user');
  if (typeof last?.content === 'string') return last.content;
  if (Array.isArray(last?.content)) {
    return last.content.map((part: { text?: unknown }) => (typeof part.text === 'string' ? part.text : '')).join('');
  }
  return '';
}

async function step(results: StepResult[], name: string, run: () => Promise<string>): Promise<boolean> {
  const started = Date.now();
  try {
    const detail = await run();
    results.push({ step: name, ok: true, detail: `${detail} (${((Date.now() - started) / 1000).toFixed(1)} s)` });
    log(`  ok    ${name}: ${detail}`);
    return true;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    results.push({ step: name, ok: false, detail });
    log(`  FAIL  ${name}: ${detail}`);
    return false;
  }
}

async function runChatFlow(page: Page, session: UiSession, gateway: StartedGateway, results: StepResult[]): Promise<void> {
  const base = `${gateway.url}${BASE_PATH}`;
  const composer = page.getByRole('textbox', { name: 'Chat composer' });
  const firstReply = replyTo(FIRST_MESSAGE);
  const secondReply = replyTo(SECOND_MESSAGE);

  await step(results, 'connect with the token', async () => {
    session.current = 'chat';
    await page.goto(`${base}/#token=${encodeURIComponent(gateway.token)}`);
    await composer.waitFor({ state: 'visible', timeout: STEP_WAIT_MS });
    await waitUntil(() => session.helloAuth !== undefined, 'hello-ok');
    const scopes = (session.helloAuth?.scopes as string[] | undefined)?.join(', ');
    return `hello-ok, scopes ${scopes}, device token ${session.helloAuth?.deviceToken ? 'issued' : 'absent'}`;
  });

  await step(results, 'send a message and see the streamed reply', async () => {
    await composer.fill(FIRST_MESSAGE);
    await composer.press('Enter');
    await page.getByText(firstReply).first().waitFor({ state: 'visible', timeout: STEP_WAIT_MS });
    const deltas = [...session.chatDeltas.values()].reduce((sum, n) => sum + n, 0);
    if (deltas === 0) throw new Error('the reply showed, but no chat delta event arrived: it was not streamed');
    return `reply shown after ${deltas} chat delta events`;
  });

  await step(results, 'reload and see the history', async () => {
    await page.reload();
    await page.getByText(FIRST_MESSAGE).first().waitFor({ state: 'visible', timeout: STEP_WAIT_MS });
    await page.getByText(firstReply).first().waitFor({ state: 'visible', timeout: STEP_WAIT_MS });
    return 'message and reply shown again';
  });

  let newSessionPath = '';
  await step(results, 'create a new session', async () => {
    // A link in the sidebar ("New conversation"), shown only when hello-ok lists sessions.create.
    const label = /new (session|conversation|chat)/i;
    const newSession = page.getByRole('link', { name: label }).or(page.getByRole('button', { name: label })).first();
    await newSession.waitFor({ state: 'visible', timeout: STEP_WAIT_MS }).catch(() => {
      throw new Error('no New session control: the UI offers one only when hello-ok lists sessions.create');
    });
    await newSession.click();
    await page.waitForURL((url) => url.pathname.startsWith(`${BASE_PATH}/new`), { timeout: STEP_WAIT_MS });
    // The new-session page has its own prompt box; a retained, hidden chat composer may sit before it in the DOM.
    const prompt = page
      .getByRole('textbox', { name: /what should this session work on|chat composer/i })
      .filter({ visible: true })
      .first();
    await prompt.waitFor({ state: 'visible', timeout: STEP_WAIT_MS });
    await prompt.fill(SECOND_MESSAGE);
    await prompt.press('Enter');
    await page.waitForURL((url) => url.pathname.startsWith(`${BASE_PATH}/chat/`) && !/\/chat\/main\/?$/.test(url.pathname), {
      timeout: STEP_WAIT_MS,
    });
    await page.getByText(secondReply).first().waitFor({ state: 'visible', timeout: STEP_WAIT_MS });
    newSessionPath = new URL(page.url()).pathname;
    return `new session at ${newSessionPath}, its reply shown`;
  });

  await step(results, 'reopen a session from the list', async () => {
    if (newSessionPath === '') throw new Error('no second session to reopen');
    await page.locator(`a[href$="${BASE_PATH}/chat/main"]`).first().click();
    await page.getByText(firstReply).first().waitFor({ state: 'visible', timeout: STEP_WAIT_MS });
    const entry = page.locator(`a[href="${newSessionPath}"]`).first();
    await entry.waitFor({ state: 'visible', timeout: STEP_WAIT_MS }).catch(() => {
      throw new Error(`the session list shows no entry for ${newSessionPath}`);
    });
    await entry.click();
    await page.getByText(secondReply).first().waitFor({ state: 'visible', timeout: STEP_WAIT_MS });
    return `went home, then reopened ${newSessionPath} from the sidebar list and saw its reply`;
  });
}

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 100) {
    if (waited >= STEP_WAIT_MS) throw new Error(`${what} did not happen within ${STEP_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<number> {
  const skip = chromiumSkipReason();
  if (skip !== undefined) {
    log(skip);
    return 1;
  }
  const started = Date.now();
  const root = process.env.PINCER_CONTROL_UI_ROOT ?? (await ensureControlUiBuild(log));
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'pincer-e2e-control-ui-'));
  let fake: FakeModelServer | undefined;
  let gateway: StartedGateway | undefined;
  const browser = await launchChromium();
  const results: StepResult[] = [];
  try {
    fake = await startFakeModelServer({
      defaultReply: (request) => ({ text: replyTo(lastUserText(request)).split(/(?<= )/), chunkDelayMs: 40 }),
    });
    gateway = await startGateway({
      stateDir,
      overrides: {
        provider: { kind: 'openai', baseUrl: fake.url, apiKey: 'e2e-key', model: 'fake-model', maxRetries: 0 },
        gateway: { controlUi: { root, basePath: BASE_PATH } },
      } as never,
    });
    log(`Pincer on ${gateway.url}, Control UI from ${root} at ${BASE_PATH}/`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const session = new UiSession(page);

    log('\nChat flow:');
    await runChatFlow(page, session, gateway, results);

    log(`\nPage tour (${PAGES.length} pages):`);
    const rows = await tourPages(page, session, `${gateway.url}${BASE_PATH}`);
    log(formatPageTable(rows));

    const failedMethods = [...session.calls.entries()].filter(([, tally]) => tally.failed > 0);
    log(`\nMethods the UI called: ${session.calls.size}; answered with an error: ${failedMethods.length}`);
    for (const [method, tally] of failedMethods.sort(([a], [b]) => a.localeCompare(b))) {
      const sample = session.failures.find((failure) => failure.method === method);
      log(`  ${method}: ${tally.failed} failed, ${tally.ok} ok — ${sample?.code} ${sample?.message}`);
    }
    await context.close();
  } finally {
    await browser.close();
    await gateway?.close();
    await fake?.close();
    await rm(stateDir, { recursive: true, force: true });
  }
  const passed = results.filter((result) => result.ok).length;
  log(`\nChat flow: ${passed} passed, ${results.length - passed} failed (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  return passed === results.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`e2e:control-ui failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
