/** Markdown → Telegram HTML, and splitting long replies: pure, no sockets. */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chunkText } from '../../../src/channels/telegram/chunk-text.js';
import { markdownToTelegramHtml } from '../../../src/channels/telegram/telegram-html.js';
import { htmlProblem, visibleText } from '../../helpers/fake-telegram.js';

describe('markdownToTelegramHtml', () => {
  it('turns common Markdown into the tags Telegram accepts', () => {
    const html = markdownToTelegramHtml('# Title\n**bold** and *it* and _it2_ and ~~gone~~, `a<b>` [link](https://example.com/?a=1&b=2)\n- item\n> quoted');
    assert.equal(
      html,
      '<b>Title</b>\n<b>bold</b> and <i>it</i> and <i>it2</i> and <s>gone</s>, <code>a&lt;b&gt;</code> <a href="https://example.com/?a=1&amp;b=2">link</a>\n• item\n<blockquote>quoted</blockquote>',
    );
    assert.equal(htmlProblem(html), undefined);
  });

  it('escapes markup in text and keeps code blocks verbatim with their language', () => {
    const html = markdownToTelegramHtml('1 < 2 & 3 > 2\n```ts\nconst x = a < b && **not bold**;\n```');
    assert.equal(html, '1 &lt; 2 &amp; 3 &gt; 2\n<pre><code class="language-ts">const x = a &lt; b &amp;&amp; **not bold**;</code></pre>');
    assert.equal(htmlProblem(html), undefined);
  });

  it('leaves snake_case and lone asterisks alone', () => {
    assert.equal(markdownToTelegramHtml('use my_var_name and 2 * 3 * 4'), 'use my_var_name and 2 * 3 * 4');
  });

  it('never produces HTML Telegram rejects for ordinary replies', () => {
    for (const text of ['a **b *c* d** e', '<script>alert(1)</script>', '&amp; & &lt;', '**unclosed bold', '`code` and ``` inline', '[x](javascript:alert(1))']) {
      assert.equal(htmlProblem(markdownToTelegramHtml(text)), undefined, text);
    }
  });
});

describe('chunkText', () => {
  it('keeps a short reply whole', () => {
    assert.deepEqual(chunkText('  hello  ', 100), ['hello']);
    assert.deepEqual(chunkText('   ', 100), []);
  });

  it('splits at paragraph breaks, every part within the limit, no text lost', () => {
    const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i} ${'word '.repeat(30).trim()}.`);
    const text = paragraphs.join('\n\n');
    const parts = chunkText(text, 500);
    assert.ok(parts.length > 1);
    for (const part of parts) assert.ok(part.length <= 500, `${part.length}`);
    for (const part of parts) assert.match(part, /^Paragraph \d+/, 'each part starts at a paragraph');
    assert.equal(parts.join('\n\n'), text);
  });

  it('splits a paragraph without breaks at spaces, and a word longer than the limit hard', () => {
    const parts = chunkText(`${'abc '.repeat(100)}${'x'.repeat(250)}`, 120);
    for (const part of parts) assert.ok(part.length <= 120);
    assert.equal(parts.join('').replace(/\s/g, ''), `${'abc'.repeat(100)}${'x'.repeat(250)}`);
  });

  it('closes a code fence cut in two and reopens it in the next part', () => {
    const code = Array.from({ length: 40 }, (_, i) => `line ${i} of the code`).join('\n');
    const parts = chunkText(`Intro\n\n\`\`\`js\n${code}\n\`\`\`\n\nOutro`, 300);
    assert.ok(parts.length > 2);
    for (const part of parts) {
      assert.ok(part.length <= 300);
      assert.equal((part.match(/^```/gm) ?? []).length % 2, 0, `balanced fences in: ${part}`);
      assert.equal(htmlProblem(markdownToTelegramHtml(part)), undefined);
    }
    assert.match(parts[1], /^```js\n/);
    assert.ok(visibleText(parts.map((part) => markdownToTelegramHtml(part)).join('\n')).includes('line 39 of the code'));
  });
});
