/**
 * How replies reach the chat: edits of one preview message spaced by the
 * throttle, a long reply split into several messages, a rejected HTML
 * entity sent again as plain text, and a 429 waited out per retry_after.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { finalText } from '../../helpers/fake-telegram.js';
import { OWNER, startTelegramScene, type TelegramScene } from './telegram-setup.js';

describe('telegram replies', () => {
  let scene: TelegramScene;
  before(async () => {
    scene = await startTelegramScene({ telegram: { textChunkLimit: 300 } });
  });
  after(() => scene.close());

  /** Send `text` as the owner and wait until the bot's messages for it stop changing into `done`. */
  async function exchange(text: string, done: (messages: ReturnType<TelegramScene['telegram']['messagesIn']>) => boolean, label: string) {
    const { telegram } = scene;
    const before = telegram.messagesIn(OWNER.id).length;
    telegram.sendText(OWNER, text);
    await telegram.waitFor(() => done(telegram.messagesIn(OWNER.id).slice(before)), 20_000, label);
    return telegram.messagesIn(OWNER.id).slice(before);
  }

  it('edits one preview message at most about once a second while the reply streams, then ends formatted', async () => {
    const chunks = Array.from({ length: 24 }, (_, i) => `w${i} `);
    scene.model.enqueue({ text: [...chunks, '**done**'], chunkDelayMs: 100 });
    const messages = await exchange('stream please', (list) => list.length === 1 && list[0].edits.at(-1)?.parseMode === 'HTML', 'the formatted final edit');
    const [message] = messages;
    const previews = [message, ...message.edits.slice(0, -1)].map((entry) => ('sentAt' in entry ? entry.sentAt : entry.at));
    assert.ok(message.edits.length >= 2, `preview edits: ${message.edits.length}`);
    for (let i = 1; i < previews.length; i++) assert.ok(previews[i] - previews[i - 1] >= 900, `edits ${previews[i] - previews[i - 1]} ms apart`);
    const last = message.edits.at(-1)!;
    assert.equal(last.text, `${chunks.join('')}<b>done</b>`);
    assert.equal(message.parseMode, undefined, 'the preview is plain text');
  });

  it('splits a reply over textChunkLimit into several messages at paragraph breaks', async () => {
    const paragraphs = Array.from({ length: 6 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum '.repeat(8).trim()}`);
    scene.model.enqueue({ text: paragraphs.join('\n\n') });
    const messages = await exchange('long please', (list) => list.length >= 3 && list.every((entry) => finalText(entry).length > 0) && scene.gateway.pincer.gateway.phase === 'ready' && list.map(finalText).join('\n\n') === paragraphs.join('\n\n'), 'all parts');
    for (const message of messages) {
      assert.ok(finalText(message).length <= 300);
      assert.match(finalText(message), /^Paragraph \d/);
    }
  });

  it('sends the reply as plain text when Telegram rejects its entities', async () => {
    scene.model.enqueue({ text: 'a **bold** claim' });
    scene.telegram.rejectNextHtml();
    const messages = await exchange('format please', (list) => list.length === 1 && finalText(list[0]) === 'a **bold** claim', 'the plain-text reply');
    assert.equal(messages[0].edits.at(-1)?.parseMode ?? messages[0].parseMode, undefined);
  });

  it('waits out a 429 with retry_after and still delivers the reply once', async () => {
    const { telegram } = scene;
    scene.model.enqueue({ text: 'after the limit' });
    telegram.failNext('sendMessage', { code: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
    const started = Date.now();
    const messages = await exchange('rate limit please', (list) => list.length === 1 && finalText(list[0]) === 'after the limit', 'the reply after the 429');
    assert.equal(messages.length, 1);
    // Only this reply's sends: the previous test's plain-text fallback may still land after `started`.
    const failedAt = telegram.calls.filter((call) => call.method === 'sendMessage' && call.at >= started && String((call.params as { text?: unknown }).text ?? '').includes('after'));
    assert.ok(failedAt.length >= 2, 'sent again after the 429');
    assert.ok(failedAt[1].at - failedAt[0].at >= 950, `retried ${failedAt[1].at - failedAt[0].at} ms later: ${JSON.stringify(telegram.calls.filter((call) => call.at >= started))}`);
  });
});
