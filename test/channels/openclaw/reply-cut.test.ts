/**
 * Cutting reply text under a byte budget (issue 13 item 6), with no sockets:
 * JSON escaping and multi-byte characters are counted, surrogate pairs are
 * never split, history pages keep older messages beside a cut one, and text
 * pages rebuild the message exactly.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byteLength, fitHistoryPage, pageMessageText } from '../../../src/channels/openclaw/history-page.js';
import type { WireMessage } from '../../../src/channels/openclaw/message-shape.js';
import { cutContentText, cutTextToBytes, jsonTextBytes } from '../../../src/channels/openclaw/reply-cut.js';

function message(id: string, text: string): WireMessage {
  return { role: 'assistant', content: [{ type: 'text', text }], id, timestamp: 1, __openclaw: { id } };
}

describe('cutTextToBytes', () => {
  it('keeps the longest prefix whose escaped UTF-8 fits, never splitting a surrogate pair', () => {
    const text = 'a"😀é\n'.repeat(1000);
    for (const budget of [1, 2, 3, 7, 100, 1001, 4096]) {
      const cut = cutTextToBytes(text, budget);
      assert.ok(jsonTextBytes(cut) <= budget, `budget ${budget}`);
      assert.ok(text.startsWith(cut));
      assert.ok(jsonTextBytes(text.slice(0, cut.length + 2)) > budget || cut.length + 2 > text.length, `longest for ${budget}`);
      const last = cut.charCodeAt(cut.length - 1);
      assert.ok(!(last >= 0xd800 && last <= 0xdbff), 'no lone high surrogate at the end');
    }
    assert.equal(cutTextToBytes('short', 100), 'short');
    assert.equal(cutTextToBytes('abc', 0), '');
  });

  it('cuts from an offset', () => {
    assert.equal(cutTextToBytes('0123456789', 3, 4), '456');
  });
});

describe('cutContentText', () => {
  it('keeps blocks in order until the budget runs out and leaves other blocks', () => {
    const content = [
      { type: 'text' as const, text: 'aaaa' },
      { type: 'toolCall' as const, id: 't', name: 'x', arguments: {} },
      { type: 'text' as const, text: 'bbbbbbbb' },
      { type: 'text' as const, text: 'cccc' },
    ];
    assert.deepEqual(cutContentText(content, 6), [content[0], content[1], { type: 'text', text: 'bb' }]);
  });
});

describe('fitHistoryPage', () => {
  it('cuts a message too large for any page and still shows the ones before it', () => {
    const rows = [message('q', 'question'), message('big', 'x'.repeat(100_000)), message('a', 'after')];
    const page = fitHistoryPage(rows, 10_000, 10_000);
    assert.deepEqual(page.map((m) => m.id), ['q', 'big', 'a']);
    assert.equal((page[1] as { truncated?: boolean }).truncated, true);
    assert.ok(byteLength(page) <= 10_000);
    assert.equal(page[0], rows[0]);
  });

  it('sends the newest message alone over the target when it fits the hard limit, and drops the oldest first', () => {
    const rows = [message('old', 'o'.repeat(500)), message('new', 'n'.repeat(3000))];
    assert.deepEqual(fitHistoryPage(rows, 2000, 10_000).map((m) => m.id), ['new']);
    assert.deepEqual(fitHistoryPage(rows, 3500, 10_000).map((m) => m.id), ['new']);
    assert.deepEqual(fitHistoryPage(rows, 10_000, 10_000).map((m) => m.id), ['old', 'new']);
  });
});

describe('pageMessageText', () => {
  it('returns a small message whole, and pages a large one that rebuilds exactly', () => {
    const small = message('s', 'hello');
    assert.deepEqual(pageMessageText(small, 'hello', 0, 10_000), { message: small, offset: 0, nextOffset: 5, totalChars: 5, hasMore: false });
    const text = 'é😀"x'.repeat(20_000);
    const big = message('b', text);
    let read = '';
    let offset = 0;
    for (let pages = 0; pages < 100; pages++) {
      const page = pageMessageText(big, text, offset, 8192)!;
      assert.ok(byteLength(page.message) <= 8192);
      read += (page.message.content[0] as { text: string }).text;
      offset = page.nextOffset;
      if (!page.hasMore) break;
    }
    assert.equal(read, text);
    assert.equal(pageMessageText(big, text, 0, 100), undefined, 'no room for a character');
  });
});
