/**
 * The web chat end to end: headless chromium opens the page served by a real
 * in-process gateway, which runs the agent against the fake model server.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { chromiumSkipReason, ensureDefaultWebBuild, launchChromium, saveScreenshot, watchPageProblems } from './browser-helpers.js';

const WAIT_MS = 8_000;
/** Chromium logs a socket the gateway closes after a refused connect as a console error. */
const SOCKET_NOISE = [/WebSocket connection to .* failed/];
const FIRST_REPLY = ['Hello', ' from', ' the', ' **fake**', ' model.'];
// Slow enough that a loaded machine still renders a partial reply before the last chunk.
const SLOW_CHUNK_MS = 300;

describe('web chat against the gateway', { skip: chromiumSkipReason() }, () => {
  let model: FakeModelServer;
  let gateway: StartedGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  before(async () => {
    await ensureDefaultWebBuild();
    model = await startFakeModelServer();
    gateway = await startGateway({
      overrides: { provider: { kind: 'openai', baseUrl: model.url, apiKey: 'fake-key', model: 'fake-model', maxRetries: 0 } },
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    context.setDefaultTimeout(WAIT_MS);
    page = await context.newPage();
    problems = watchPageProblems(page);
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
    await model?.close();
  });

  async function waitConnected(target: Page = page): Promise<void> {
    await target.locator('#conn[data-state="connected"]').waitFor();
  }

  async function send(text: string): Promise<void> {
    await page.locator('#input').fill(text);
    await page.locator('#input').press('Enter');
    await page.locator('.msg-user', { hasText: text }).waitFor();
  }

  async function waitIdle(): Promise<void> {
    await page.locator('#send').waitFor();
    await page.locator('.msg.streaming').waitFor({ state: 'detached' });
  }

  function titles(): Promise<string[]> {
    return page.locator('#session-list .session-title').allTextContents();
  }

  it('opens with #token, drops it from the address bar and streams a reply', async () => {
    model.enqueue({ text: FIRST_REPLY, chunkDelayMs: SLOW_CHUNK_MS });
    await page.goto(`${gateway.url}/#token=${encodeURIComponent(gateway.token)}`);
    await waitConnected();
    assert.equal(new URL(page.url()).hash, '');
    assert.ok(!page.url().includes(gateway.token));

    await send('hi there');
    // A partial reply shows while the model still streams.
    await page.locator('.msg-assistant.streaming .md').waitFor();
    const partial = await page.locator('.msg-assistant.streaming .md').textContent();
    assert.ok(partial && partial.length < 'Hello from the fake model.'.length, `partial text: ${partial}`);
    await waitIdle();
    const reply = page.locator('.msg-assistant').last();
    assert.equal(await reply.locator('.md').textContent(), 'Hello from the fake model.');
    assert.equal(await reply.locator('strong').textContent(), 'fake');
    await saveScreenshot(page, 'chat-streamed');
    assert.deepEqual(problems, []);
  });

  it('shows the history again after a reload', async () => {
    await page.reload();
    await waitConnected();
    await page.locator('.msg-assistant .md', { hasText: 'Hello from the fake model.' }).waitFor();
    assert.deepEqual(await page.locator('.msg-user .user-text').allTextContents(), ['hi there']);
    assert.deepEqual(await titles(), ['hi there']);
    assert.deepEqual(problems, []);
  });

  it('creates, renames, switches and deletes sessions', async () => {
    await page.locator('#new-session').click();
    await page.waitForFunction(() => document.querySelectorAll('#messages .msg').length === 0);
    assert.equal(await page.locator('#chat-title').textContent(), 'New chat');
    await send('second chat');
    await waitIdle();

    await page.locator('#rename').click();
    await page.locator('#rename-input').fill('Renamed chat');
    await page.locator('#rename-form button[type="submit"]').click();
    await page.locator('#chat-title', { hasText: 'Renamed chat' }).waitFor();
    await page.locator('#session-list .session-title', { hasText: 'Renamed chat' }).waitFor();
    assert.deepEqual((await titles()).sort(), ['Renamed chat', 'hi there']);
    await saveScreenshot(page, 'chat-sessions');

    await page.locator('#session-list .session', { hasText: 'hi there' }).click();
    await page.locator('.msg-user', { hasText: 'hi there' }).waitFor();
    assert.equal(await page.locator('.msg-user', { hasText: 'second chat' }).count(), 0);
    await page.locator('#session-list .session', { hasText: 'Renamed chat' }).click();
    await page.locator('.msg-user', { hasText: 'second chat' }).waitFor();

    await page.locator('#delete').click();
    await page.locator('#delete', { hasText: 'Confirm delete' }).click();
    await page.locator('#session-list .session-title', { hasText: 'Renamed chat' }).waitFor({ state: 'detached' });
    await page.locator('.msg-user', { hasText: 'hi there' }).waitFor();
    await page.reload();
    await waitConnected();
    await page.locator('.msg-user', { hasText: 'hi there' }).waitFor();
    assert.deepEqual(await titles(), ['hi there']);
    assert.deepEqual(problems, []);
  });

  it('stops a reply mid-stream', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => ` word${i}`);
    model.enqueue({ text: chunks, chunkDelayMs: SLOW_CHUNK_MS });
    await send('tell me a long story');
    await page.locator('.msg-assistant.streaming .md', { hasText: 'word1' }).waitFor();
    await page.locator('#stop').click();
    await page.locator('.run-note', { hasText: 'Stopped.' }).waitFor();
    await waitIdle();
    const text = (await page.locator('.msg-assistant').last().textContent()) ?? '';
    assert.ok(!text.includes('word39'), 'the reply stopped before its end');
    await model.waitFor((server) => server.stats.aborted >= 1, WAIT_MS);
    await saveScreenshot(page, 'chat-stopped');
    assert.deepEqual(problems, []);
  });

  it('shows HTML in a model reply as text', async () => {
    model.enqueue({ text: 'Look: <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> done' });
    await send('send me html');
    await page.locator('.msg-assistant .md', { hasText: 'done' }).waitFor();
    await waitIdle();
    const dom = await page.evaluate(() => ({
      imgs: document.querySelectorAll('#messages img').length,
      scripts: document.querySelectorAll('#messages script').length,
      xss: (window as unknown as { __xss?: unknown }).__xss,
      text: [...document.querySelectorAll('.msg-assistant .md')].at(-1)?.textContent,
    }));
    assert.deepEqual(dom, {
      imgs: 0,
      scripts: 0,
      xss: undefined,
      text: 'Look: <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> done',
    });
    await saveScreenshot(page, 'chat-html-as-text');
    assert.deepEqual(problems, []);
  });

  it('shows the run error when the model fails', async () => {
    model.enqueue({ status: 400, errorMessage: 'the fake model refuses' });
    await send('this will fail');
    const error = page.locator('.run-error');
    await error.waitFor();
    assert.match(String(await error.textContent()), /fake model refuses|400/);
    await waitIdle();
    assert.deepEqual(problems, []);
  });

  it('shows an error for a wrong token and asks for another', async () => {
    const other = await context.newPage();
    const otherProblems = watchPageProblems(other, SOCKET_NOISE);
    try {
      await other.goto(`${gateway.url}/#token=not-the-token`);
      await other.locator('#token-error', { hasText: 'unauthorized' }).waitFor();
      assert.match(String(await other.locator('#token-error').textContent()), /token mismatch/);
      assert.equal(new URL(other.url()).hash, '');
      await saveScreenshot(other, 'chat-wrong-token');
      await other.locator('#token-input').fill(gateway.token);
      await other.locator('#token-form button[type="submit"]').click();
      await waitConnected(other);
      assert.deepEqual(otherProblems, []);
    } finally {
      await other.close();
    }
  });
});

describe('web chat against a gateway without a provider', { skip: chromiumSkipReason() }, () => {
  let gateway: StartedGateway;
  let browser: Browser;

  before(async () => {
    await ensureDefaultWebBuild();
    gateway = await startGateway();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('shows why the run cannot start', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const problems = watchPageProblems(page);
    await page.goto(`${gateway.url}/#token=${encodeURIComponent(gateway.token)}`);
    await page.locator('#conn[data-state="connected"]').waitFor();
    await page.locator('#input').fill('hello?');
    await page.locator('#input').press('Enter');
    const shown = page.locator('.run-error, #banner:not([hidden])').first();
    await shown.waitFor();
    assert.match(String(await shown.textContent()), /provider/i);
    await saveScreenshot(page, 'chat-no-provider');
    assert.deepEqual(problems, []);
  });
});
