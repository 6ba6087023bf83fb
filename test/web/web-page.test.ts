/**
 * The web chat in headless chromium against a scripted peer, for what the real
 * gateway cannot be made to send on demand: hostile markdown, thinking and tool
 * blocks, events of other sessions, dropped sockets and refused connects.
 * test/web/web-chat.test.ts covers the same page end to end with the real gateway.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWebAssets, chromiumSkipReason, launchChromium, saveScreenshot, watchPageProblems } from './browser-helpers.js';
import { startScriptedGateway, type RecordedRequest, type ScriptedGateway } from './scripted-gateway.js';

const TOKEN = 'page-test-token-0123456789';
const WAIT_MS = 5_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Chromium logs refused or dropped sockets as console errors; those are expected here. */
const SOCKET_NOISE = [/WebSocket connection to .* failed/];

const HOSTILE_MARKDOWN = [
  'Here is **bold** and a [safe link](https://example.com/docs).',
  '',
  'Raw html: <img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script>',
  '',
  '[bad link](javascript:window.__xss=3) ![pic](https://example.com/x.png)',
  '',
  '```js',
  'const answer = 42; // <b>not bold</b>',
  '```',
].join('\n');

function canonical(key: string): string {
  return key.startsWith('agent:') ? key.toLowerCase() : `agent:main:${key.toLowerCase()}`;
}

describe('web page against a scripted peer', { skip: chromiumSkipReason() }, () => {
  let build: { dir: string; remove(): Promise<void> } | undefined;
  let gateway: ScriptedGateway;
  let browser: Browser;
  const history = new Map<string, unknown[]>();
  /** One context for the file; each test opens its own tab, so sessionStorage starts empty. */
  let context: BrowserContext;
  const pages: Page[] = [];

  before(async () => {
    build = await buildWebAssets();
    gateway = await startScriptedGateway(build.dir, TOKEN);
    gateway.handlers.set('sessions.list', () => ({
      payload: {
        sessions: [...history.keys()].map((key, i) => ({ key, label: null, derivedTitle: `Chat ${i}`, updatedAt: 1_000 - i })),
      },
    }));
    gateway.handlers.set('chat.history', (params) => {
      const key = canonical(String(params['sessionKey']));
      return { payload: { sessionKey: key, messages: history.get(key) ?? [], hasMore: false } };
    });
    gateway.handlers.set('chat.send', (params) => ({ payload: { runId: params['idempotencyKey'], status: 'started' } }));
    gateway.handlers.set('chat.abort', (params) => ({ payload: { ok: true, aborted: true, runIds: [params['runId']] } }));
    browser = await launchChromium();
    context = await browser.newContext();
    context.setDefaultTimeout(WAIT_MS);
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
    await build?.remove();
  });

  async function openPage(options: { fragment?: string; viewport?: { width: number; height: number } } = {}): Promise<{ page: Page; problems: string[] }> {
    for (const open of pages.splice(0)) await open.close();
    const page = await context.newPage();
    pages.push(page);
    await page.setViewportSize(options.viewport ?? { width: 1100, height: 760 });
    const problems = watchPageProblems(page, SOCKET_NOISE);
    await page.goto(`${gateway.url}${options.fragment ?? `#token=${TOKEN}`}`);
    return { page, problems };
  }

  async function waitConnected(page: Page): Promise<void> {
    await page.locator('#conn[data-state="connected"]').waitFor();
  }

  function lastRequest(method: string): RecordedRequest | undefined {
    return gateway.requests.filter((request) => request.method === method).pop();
  }

  function countRequests(method: string): number {
    return gateway.requests.filter((request) => request.method === method).length;
  }

  it('takes the token from the fragment, drops it from the address and connects as pincer-web', async () => {
    const { page, problems } = await openPage();
    await waitConnected(page);
    assert.equal(page.url(), gateway.url);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('pincer.token')), TOKEN);
    const connect = lastRequest('connect');
    assert.ok(connect);
    const { client, userAgent, locale, ...rest } = connect.params;
    assert.deepEqual(rest, {
      minProtocol: 3,
      maxProtocol: 4,
      role: 'operator',
      scopes: ['operator.admin'],
      caps: [],
      auth: { token: TOKEN },
    });
    assert.deepEqual({ ...(client as object), version: undefined }, { id: 'pincer-web', mode: 'webchat', platform: 'web', version: undefined });
    assert.equal(typeof userAgent, 'string');
    assert.equal(typeof locale, 'string');
    assert.deepEqual(problems, []);
    // The CSP reached the browser: HTML sinks refuse strings (Trusted Types), inline script does not run.
    const reported = page.waitForEvent('console', { predicate: (message) => message.text().includes('TrustedHTML') });
    const sink = await page.evaluate(() => {
      try {
        document.body.insertAdjacentHTML('beforeend', '<b>x</b>');
        return 'allowed';
      } catch (error) {
        return error instanceof TypeError ? 'blocked' : String(error);
      }
    });
    assert.equal(sink, 'blocked');
    await reported;
    assert.deepEqual(problems.splice(0), ["console: This document requires 'TrustedHTML' assignment. The action has been blocked."]);
    await page.reload();
    await waitConnected(page);
    assert.equal(await page.locator('#token-view').isHidden(), true);
    assert.deepEqual(problems, []);
  });

  it('renders model markdown without raw HTML, unsafe links or images, and collapses thinking and tools', async () => {
    history.set('agent:main:main', [
      { id: 'u1', role: 'user', content: [{ type: 'text', text: 'show me <b>html</b>' }], timestamp: 1 },
      {
        id: 'a1',
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Let me think about <img src=x onerror=alert(1)>' },
          { type: 'toolCall', id: 't1', name: 'read_file', arguments: { path: 'notes.md' } },
        ],
        timestamp: 2,
      },
      { id: 'r1', role: 'toolResult', toolCallId: 't1', toolName: 'read_file', content: [{ type: 'text', text: 'file body' }], timestamp: 3 },
      { id: 'a2', role: 'assistant', content: [{ type: 'text', text: HOSTILE_MARKDOWN }], timestamp: 4 },
    ]);
    const { page, problems } = await openPage();
    await waitConnected(page);
    await page.locator('.msg-assistant .md pre code').waitFor();
    const dom = await page.evaluate(() => ({
      imgs: document.querySelectorAll('#messages img').length,
      scripts: document.querySelectorAll('#messages script').length,
      handlers: document.querySelectorAll('#messages [onerror]').length,
      xss: (window as unknown as { __xss?: unknown }).__xss,
      anchors: [...document.querySelectorAll('#messages a')].map((a) => ({ href: a.getAttribute('href'), rel: a.getAttribute('rel'), target: a.getAttribute('target') })),
      details: [...document.querySelectorAll('#messages details')].map((d) => ({ open: (d as HTMLDetailsElement).open, summary: d.querySelector('summary')?.textContent })),
      code: document.querySelector('#messages pre code')?.textContent,
      lang: (document.querySelector('#messages pre code') as HTMLElement | null)?.dataset['lang'],
      user: document.querySelector('.msg-user .user-text')?.textContent,
      text: document.querySelector('#messages')?.textContent ?? '',
    }));
    assert.equal(dom.imgs, 0);
    assert.equal(dom.scripts, 0);
    assert.equal(dom.handlers, 0);
    assert.equal(dom.xss, undefined);
    const external = { rel: 'noopener noreferrer nofollow', target: '_blank' };
    assert.deepEqual(dom.anchors, [
      { href: 'https://example.com/docs', ...external },
      // Images are off: `![pic](url)` is shown as "!" and a plain link.
      { href: 'https://example.com/x.png', ...external },
    ]);
    assert.deepEqual(dom.details, [
      { open: false, summary: 'Thinking' },
      { open: false, summary: 'Tool call: read_file' },
      { open: false, summary: 'Tool result: read_file' },
    ]);
    assert.equal(dom.code, 'const answer = 42; // <b>not bold</b>\n');
    assert.equal(dom.lang, 'js');
    assert.equal(dom.user, 'show me <b>html</b>');
    assert.ok(dom.text.includes('<img src=x onerror="window.__xss=1">'), 'raw HTML is shown as text');
    assert.ok(dom.text.includes('[bad link](javascript:window.__xss=3)'), 'an unsafe link stays text');
    await saveScreenshot(page, 'page-rendering');
    assert.deepEqual(problems, []);
    history.clear();
  });

  it('streams deltas of the open session only, shows Stop meanwhile and refreshes history on final', async () => {
    const { page, problems } = await openPage();
    await waitConnected(page);
    const before = countRequests('chat.history');
    const runId = 'run-stream-1';
    gateway.broadcast('chat', { runId, sessionKey: 'agent:main:main', state: 'delta', deltaText: 'Hel', message: { role: 'assistant', content: [{ type: 'text', text: 'Hel' }] } });
    gateway.broadcast('chat', { runId: 'other', sessionKey: 'agent:main:elsewhere', state: 'delta', message: { role: 'assistant', content: [{ type: 'text', text: 'NOT HERE' }] } });
    gateway.broadcast('chat', { runId, sessionKey: 'agent:main:main', state: 'delta', deltaText: 'lo **world**', message: { role: 'assistant', content: [{ type: 'text', text: 'Hello **world**' }] } });
    await page.locator('.msg-assistant.streaming strong', { hasText: 'world' }).waitFor();
    assert.equal(await page.locator('#stop').isVisible(), true);
    assert.equal(await page.locator('#send').isHidden(), true);
    assert.equal(await page.getByText('NOT HERE').count(), 0);
    gateway.broadcast('chat', { runId, sessionKey: 'agent:main:main', state: 'final', message: { role: 'assistant', content: [{ type: 'text', text: 'Hello **world**' }] } });
    await page.locator('#send').waitFor();
    assert.equal(await page.locator('.streaming').count(), 0);
    await waitFor(() => countRequests('chat.history') > before, 'history refetched after final');
    assert.deepEqual(problems, []);
  });

  it('shows the error text of a failed run', async () => {
    const { page, problems } = await openPage();
    await waitConnected(page);
    gateway.broadcast('chat', { runId: 'run-err', sessionKey: 'agent:main:main', state: 'error', errorMessage: 'no provider configured: set provider in config.json' });
    const error = page.locator('.run-error');
    await error.waitFor();
    assert.equal(await error.textContent(), 'no provider configured: set provider in config.json');
    assert.deepEqual(problems, []);
  });

  it('sends on Enter with a fresh idempotency key and keeps Shift+Enter as a newline', async () => {
    const { page, problems } = await openPage();
    await waitConnected(page);
    const input = page.locator('#input');
    await input.click();
    await page.keyboard.type('line one');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('line two');
    await page.keyboard.press('Enter');
    await page.locator('.msg-user', { hasText: 'line two' }).waitFor();
    const send = lastRequest('chat.send');
    assert.ok(send);
    assert.equal(send.params['message'], 'line one\nline two');
    assert.equal(send.params['sessionKey'], 'agent:main:main');
    assert.match(String(send.params['idempotencyKey']), UUID);
    assert.equal(await input.inputValue(), '');
    await page.locator('#stop').click();
    await waitFor(() => gateway.requests.some((r) => r.method === 'chat.abort' && r.params['runId'] === send.params['idempotencyKey']), 'chat.abort sent with the runId');
    gateway.broadcast('chat', { runId: send.params['idempotencyKey'], sessionKey: 'agent:main:main', state: 'aborted', stopReason: 'rpc' });
    await page.locator('.run-note', { hasText: 'Stopped.' }).waitFor();
    await page.locator('#send').waitFor();
    assert.deepEqual(problems, []);
  });

  it('asks for a token when none is given and shows the refusal of a wrong one', async () => {
    const { page, problems } = await openPage({ fragment: '' });
    await page.locator('#token-input').waitFor();
    await page.locator('#token-input').fill('wrong-token');
    await page.locator('#token-form button[type="submit"]').click();
    const error = page.locator('#token-error');
    await page.waitForFunction(() => (document.getElementById('token-error')?.textContent ?? '').includes('unauthorized'));
    assert.match(String(await error.textContent()), /refused this token: unauthorized: gateway token mismatch/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('pincer.token')), null);
    await saveScreenshot(page, 'page-wrong-token');
    await page.locator('#token-input').fill(TOKEN);
    await page.locator('#token-form button[type="submit"]').click();
    await waitConnected(page);
    assert.deepEqual(problems, []);
  });

  it('reconnects after the socket drops and reloads the history', async () => {
    const { page, problems } = await openPage();
    await waitConnected(page);
    const before = countRequests('chat.history');
    gateway.dropAll();
    await page.locator('#conn[data-state="retrying"]').waitFor();
    await waitConnected(page);
    await waitFor(() => countRequests('chat.history') > before, 'history reloaded after reconnect');
    assert.deepEqual(problems, []);
  });

  it('explains a rate-limited connect and retries after the wait', async () => {
    const accept = gateway.handlers.get('connect');
    assert.ok(accept);
    let refusals = 0;
    gateway.handlers.set('connect', (params, socket) => {
      if (refusals++ > 0) return accept(params, socket);
      return {
        error: {
          code: 'INVALID_REQUEST',
          message: 'unauthorized: too many failed authentication attempts (retry later)',
          details: { code: 'AUTH_RATE_LIMITED' },
          retryable: true,
          retryAfterMs: 300,
        },
        closeWith: 1008,
      };
    });
    try {
      const { page, problems } = await openPage();
      const banner = page.locator('#banner');
      await banner.waitFor();
      assert.match(String(await banner.textContent()), /too many failed authentication attempts/);
      await waitConnected(page);
      assert.equal(await page.locator('#token-view').isHidden(), true);
      assert.deepEqual(problems, []);
    } finally {
      gateway.handlers.set('connect', accept);
    }
  });

  it('fits a phone screen, with the session list in a drawer', async () => {
    history.set('agent:main:main', [
      { id: 'u1', role: 'user', content: [{ type: 'text', text: 'A fairly long question that has to wrap on a phone screen without scrolling sideways.' }], timestamp: 1 },
      { id: 'a1', role: 'assistant', content: [{ type: 'text', text: 'Answer with code:\n\n```\n' + 'x'.repeat(200) + '\n```' }], timestamp: 2 },
    ]);
    const { page, problems } = await openPage({ viewport: { width: 390, height: 844 } });
    await waitConnected(page);
    await page.locator('.msg-assistant pre').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    const sidebar = await page.locator('#sidebar').boundingBox();
    assert.ok(sidebar && sidebar.x + sidebar.width <= 0, 'sidebar is off screen');
    const input = await page.locator('#input').boundingBox();
    assert.ok(input && input.y + input.height <= 844, 'composer is on screen');
    await saveScreenshot(page, 'page-phone');
    await page.locator('#menu').click();
    await page.waitForFunction(() => (document.getElementById('sidebar')?.getBoundingClientRect().x ?? -1) >= 0);
    await saveScreenshot(page, 'page-phone-drawer');
    assert.deepEqual(problems, []);
    history.clear();
  });
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
