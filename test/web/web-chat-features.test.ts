/**
 * Web chat essentials in headless Chromium against a real gateway and the fake
 * model: list numbering, wide tables, copy buttons, on-demand highlighting,
 * the model in the header, timestamps, regenerate and edit of the last turn,
 * plain-text sidebar previews and the HTTP API's sessions kept out of the way.
 * With PINCER_UPDATE_SCREENSHOT=1 it also writes docs/web-chat.png.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { chromiumSkipReason, ensureDefaultWebBuild, findRepoRoot, launchChromium, watchPageProblems } from './browser-helpers.js';

const WAIT_MS = 8_000;
const REPLY_WITH_EVERYTHING = [
  '1. first\n2. second\n\n',
  'And later:\n\n3. third on its own\n\n',
  '| Configuration | Environment | Description | Default | Example value |\n|---|---|---|---|---|\n',
  '| gateway.host | PINCER_HOST | interface to bind | 127.0.0.1 | 0.0.0.0 |\n\n',
  '```ts\nconst answer: number = 42; // the answer\n```\n',
];
const CODE_TEXT = 'const answer: number = 42; // the answer\n';

describe('web chat essentials', { skip: chromiumSkipReason() }, () => {
  let model: FakeModelServer;
  let gateway: StartedGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const assetRequests: string[] = [];

  before(async () => {
    await ensureDefaultWebBuild();
    model = await startFakeModelServer();
    gateway = await startGateway({
      overrides: { provider: { kind: 'openai', baseUrl: model.url, apiKey: 'fake-key', model: 'fake-model', maxRetries: 0 } },
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gateway.url });
    context.setDefaultTimeout(WAIT_MS);
    page = await context.newPage();
    page.on('request', (request) => assetRequests.push(new URL(request.url()).pathname));
    problems = watchPageProblems(page);
    await page.goto(`${gateway.url}/#token=${encodeURIComponent(gateway.token)}`);
    await page.locator('#conn[data-state="connected"]').waitFor();
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
    await model?.close();
  });

  async function send(text: string): Promise<void> {
    await page.locator('#input').fill(text);
    await page.locator('#input').press('Enter');
    await waitIdle();
  }

  async function waitIdle(): Promise<void> {
    await page.locator('#send').waitFor();
    await page.locator('.msg.streaming').waitFor({ state: 'detached' });
    await page.locator('.messages:not(.busy)').waitFor();
  }

  it('shows the model in the header', async () => {
    // The header is filled once the page's first status answer arrives: wait for it, bounded.
    let shown: string | null = null;
    for (let tries = 0; tries < 50 && shown !== 'fake-model'; tries++) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      shown = await page.locator('#model').textContent();
    }
    assert.equal(shown, 'fake-model');
  });

  it('does not load the highlighter until a reply has a code block', async () => {
    model.enqueue({ text: 'No code here.' });
    await send('plain please');
    assert.ok(!assetRequests.some((p) => p.startsWith('/assets/highlight-')), assetRequests.join(' '));
  });

  it('numbers ordered lists from their first number, highlights code and stamps every message', async () => {
    model.enqueue({ text: REPLY_WITH_EVERYTHING });
    await send('show me everything');
    const reply = page.locator('.msg-assistant').last();
    const starts = await reply.locator('ol').evaluateAll((lists) => lists.map((list) => (list as HTMLOListElement).start));
    assert.deepEqual(starts, [1, 3]);
    await reply.locator('code .tok-keyword', { hasText: 'const' }).waitFor();
    assert.equal(await reply.locator('code .tok-comment').textContent(), '// the answer');
    assert.equal(await reply.locator('code .tok-number').textContent(), '42');
    assert.ok(assetRequests.some((p) => /^\/assets\/highlight-[0-9a-f]{10}\.js$/.test(p)), 'the highlighter loaded on demand');
    for (const row of [page.locator('.msg-user').last(), reply]) {
      const datetime = await row.locator('time.msg-time').getAttribute('datetime');
      assert.ok(datetime !== null && Math.abs(Date.parse(datetime) - Date.now()) < 120_000, `timestamp ${datetime}`);
    }
    await page.waitForFunction(() => document.querySelector('#session-list .session[aria-current="true"] .session-preview')?.textContent?.startsWith('first'));
    assert.equal(
      await page.locator('#session-list .session[aria-current="true"] .session-preview').textContent(),
      'first second And later: third on its own Configuration Environment Description D',
      'a plain-text preview of at most 80 characters, one word per block',
    );
    if (process.env.PINCER_UPDATE_SCREENSHOT === '1') {
      await page.screenshot({ path: path.join(findRepoRoot(), 'docs', 'web-chat.png') });
    }
  });

  it('copies a code block and a whole message', async () => {
    const reply = page.locator('.msg-assistant').last();
    await reply.locator('.copy-code').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), CODE_TEXT);
    await reply.locator('.copy-message').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), REPLY_WITH_EVERYTHING.join(''));
    await page.locator('.msg-user').last().locator('.copy-message').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'show me everything');
  });

  it('scrolls a wide table sideways on a phone instead of breaking its words', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    try {
      const box = page.locator('.msg-assistant').last().locator('.table-scroll');
      const { scrollWidth, clientWidth } = await box.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
      assert.ok(scrollWidth > clientWidth, `the table box scrolls (${scrollWidth} > ${clientWidth})`);
      const lines = await box.locator('th', { hasText: 'Configuration' }).evaluate((th) => {
        const range = document.createRange();
        range.selectNodeContents(th);
        return range.getClientRects().length;
      });
      assert.equal(lines, 1, 'the header word stays on one line');
    } finally {
      await page.setViewportSize({ width: 1100, height: 800 });
    }
  });

  it('regenerates the last reply as a new turn with the same text', async () => {
    const requestsBefore = model.requests.length;
    model.enqueue({ text: 'A second take.' });
    await page.locator('.msg-assistant').last().locator('.regenerate').click();
    await page.locator('.msg-assistant', { hasText: 'A second take.' }).waitFor();
    await waitIdle();
    assert.equal(model.requests.length, requestsBefore + 1);
    assert.equal(await page.locator('.msg-user').last().locator('.user-text').textContent(), 'show me everything');
    assert.equal(await page.locator('.regenerate').count(), 1, 'only the last reply offers it');
  });

  it('puts the last message back in the composer to edit and resend it', async () => {
    await page.locator('.msg-user').last().locator('.edit-last').click();
    assert.equal(await page.locator('#input').inputValue(), 'show me everything');
    model.enqueue({ text: 'Here is **less**, with `code`.' });
    await page.locator('#input').fill('show me less');
    await page.locator('#input').press('Enter');
    await page.locator('.msg-assistant', { hasText: 'Here is less' }).waitFor();
    await waitIdle();
    assert.equal(await page.locator('#input').inputValue(), '');
  });

  it('previews the last message in the sidebar as plain text', async () => {
    const preview = page.locator('#session-list .session[aria-current="true"] .session-preview');
    await page.waitForFunction(() => document.querySelector('#session-list .session[aria-current="true"] .session-preview')?.textContent?.startsWith('Here is'));
    assert.equal(await preview.textContent(), 'Here is less, with code.');
  });

  it('keeps sessions made by the HTTP API out of the sidebar until asked, and labels them', async () => {
    model.enqueue({ text: 'From the API.' });
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'pincer', messages: [{ role: 'user', content: 'api call' }] }),
    });
    assert.equal(res.status, 200);
    await page.reload();
    await page.locator('#conn[data-state="connected"]').waitFor();
    const toggle = page.locator('.api-toggle');
    assert.equal(await toggle.textContent(), 'Show API sessions (1)');
    assert.equal(await page.locator('#session-list .session-badge').count(), 0);
    await toggle.click();
    assert.equal(await page.locator('#session-list .session-badge').count(), 1);
    assert.equal(await page.locator('#session-list .session', { has: page.locator('.session-badge') }).locator('.session-preview').textContent(), 'From the API.');
    assert.equal(await page.locator('.api-toggle').textContent(), 'Hide API sessions (1)');
  });

  it('raised no page errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});
