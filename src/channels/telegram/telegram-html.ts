/**
 * Markdown as models write it → the HTML subset Telegram accepts
 * (b, i, s, code, pre, a, blockquote). Unpaired or crossing markers may still
 * give HTML Telegram rejects; the sender then falls back to plain text.
 */

const FENCE = /^```([\w+-]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
/** Private-use characters mark extracted spans; models never write them. */
const SLOT_OPEN = '\uE000';
const SLOT_CLOSE = '\uE001';

/** Escape the three characters Telegram's HTML parser treats as markup. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Convert a Markdown reply to Telegram HTML. */
export function markdownToTelegramHtml(markdown: string): string {
  const slots: string[] = [];
  const keep = (html: string): string => `${SLOT_OPEN}${slots.push(html) - 1}${SLOT_CLOSE}`;
  let text = markdown.replace(/\r\n/g, '\n');
  text = text.replace(FENCE, (_match, lang: string, code: string) => {
    const body = escapeHtml(code.replace(/\n$/, ''));
    return keep(lang === '' ? `<pre>${body}</pre>` : `<pre><code class="language-${escapeHtml(lang)}">${body}</code></pre>`);
  });
  text = text.replace(/`([^`\n]+)`/g, (_match, code: string) => keep(`<code>${escapeHtml(code)}</code>`));
  text = text.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_match, label: string, url: string) => keep(`<a href="${escapeHtml(url).replace(/"/g, '&quot;')}">${inline(escapeHtml(label))}</a>`));
  const lines = escapeHtml(text).split('\n');
  const out: string[] = [];
  let quote: string[] = [];
  const flushQuote = (): void => {
    if (quote.length > 0) out.push(`<blockquote>${quote.join('\n')}</blockquote>`);
    quote = [];
  };
  for (const line of lines) {
    const quoted = /^&gt;\s?(.*)$/.exec(line);
    if (quoted !== null) {
      quote.push(inline(quoted[1]));
      continue;
    }
    flushQuote();
    const heading = /^#{1,6}\s+(.+?)\s*#*$/.exec(line);
    if (heading !== null) out.push(`<b>${inline(heading[1])}</b>`);
    else out.push(inline(line.replace(/^(\s*)[-*+]\s+/, '$1• ')));
  }
  flushQuote();
  return out.join('\n').replace(new RegExp(`${SLOT_OPEN}(\\d+)${SLOT_CLOSE}`, 'g'), (_match, index: string) => slots[Number(index)] ?? '');
}

/** Bold, italic and strike-through within one line (already escaped). */
function inline(line: string): string {
  return line
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, '<b>$1</b>')
    .replace(/(^|[^\w])__(?=\S)(.+?)(?<=\S)__(?!\w)/g, '$1<b>$2</b>')
    .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, '<s>$1</s>')
    .replace(/(^|[^\w*])\*(?=[^\s*])([^*]*?[^\s*])\*(?![\w*])/g, '$1<i>$2</i>')
    .replace(/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_])_(?!\w)/g, '$1<i>$2</i>');
}
