/**
 * The web chat with two agents: headless chromium picks an agent, chats in
 * that agent's main session (answered by that agent's model), and opens a
 * new chat under the picked agent. With one agent the picker stays hidden.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';
import { chromiumSkipReason, ensureDefaultWebBuild, launchChromium, watchPageProblems } from './browser-helpers.js';

const WAIT_MS = 10_000;

describe('web chat with several agents', { skip: chromiumSkipReason() }, () => {
  let modelA: FakeModelServer;
  let modelB: FakeModelServer;
  let gateway: StartedGateway;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  before(async () => {
    await ensureDefaultWebBuild();
    modelA = await startFakeModelServer({ defaultReply: { text: 'answer from the main agent' } });
    modelB = await startFakeModelServer({ defaultReply: { text: 'answer from the researcher' } });
    gateway = await startGateway({
      overrides: {
        provider: { kind: 'openai', baseUrl: modelA.url, model: 'model-a', maxRetries: 0, models: [{ kind: 'openai', baseUrl: modelB.url, model: 'model-b' }] },
        agents: { list: [{ id: 'researcher', name: 'Researcher', model: 'openai/model-b' }] },
      },
    });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    context.setDefaultTimeout(WAIT_MS);
    page = await context.newPage();
    problems = watchPageProblems(page);
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
    await modelA?.close();
    await modelB?.close();
  });

  it('picks an agent and chats with it in its own session', async () => {
    await page.goto(`${gateway.url}/#token=${encodeURIComponent(gateway.token)}`);
    await page.locator('#conn[data-state="connected"]').waitFor();
    const picker = page.locator('#agent-picker');
    await picker.waitFor({ state: 'visible' });
    assert.deepEqual(await picker.locator('option').allTextContents(), ['main', 'Researcher']);
    assert.equal(await picker.inputValue(), 'main');

    await picker.selectOption('researcher');
    await page.locator('#input').fill('hello researcher');
    await page.locator('#input').press('Enter');
    await page.locator('.msg', { hasText: 'answer from the researcher' }).waitFor();
    await page.locator('#send').waitFor();
    assert.equal(modelB.requests.length, 1);
    assert.equal(modelA.requests.length, 0);

    await page.locator('#new-session').click();
    await page.locator('#chat-title', { hasText: 'New chat' }).waitFor();
    await page.locator('#input').fill('second question');
    await page.locator('#input').press('Enter');
    await page.locator('.msg', { hasText: 'second question' }).waitFor();
    await page.locator('#send').waitFor();
    assert.equal(modelB.requests.length, 2);
    assert.equal(await picker.inputValue(), 'researcher');
    const badges = await page.locator('#session-list .agent-badge').allTextContents();
    assert.ok(badges.length >= 2 && badges.every((badge) => badge === 'Researcher'), badges.join(','));

    await picker.selectOption('main');
    await page.locator('#input').fill('hello main');
    await page.locator('#input').press('Enter');
    await page.locator('.msg', { hasText: 'answer from the main agent' }).waitFor();
    assert.equal(modelA.requests.length, 1);
    assert.deepEqual(problems, []);
  });
});

describe('web chat with one agent', { skip: chromiumSkipReason() }, () => {
  it('hides the picker', async () => {
    await ensureDefaultWebBuild();
    const gateway = await startGateway({});
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${gateway.url}/#token=${encodeURIComponent(gateway.token)}`);
      await page.locator('#conn[data-state="connected"]').waitFor({ timeout: WAIT_MS });
      // agents.list has answered once the session list is drawn.
      await page.locator('#session-list .session').first().waitFor({ timeout: WAIT_MS }).catch(() => undefined);
      assert.equal(await page.locator('#agent-picker').isHidden(), true);
    } finally {
      await browser.close();
      await gateway.close();
    }
  });
});
