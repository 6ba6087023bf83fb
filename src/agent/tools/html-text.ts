/**
 * Readable text from an HTML page for web_fetch: scripts, styles and markup
 * removed, block elements on their own lines, common entities decoded. Not a
 * full HTML parser; good enough for a model to read a page.
 *
 * One pass from left to right: the page is hostile input, and scanning to the
 * end of it again for every unclosed `<` or `<!--` would take minutes on a
 * half-megabyte page. Every search either moves the cursor past what it found
 * or, when it finds nothing, is remembered so it is never repeated.
 */

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
const BLOCK_TAGS = /^(p|div|br|hr|li|ul|ol|tr|table|h[1-6]|section|article|header|footer|nav|main|aside|pre|blockquote|dt|dd|title)$/i;
/** Elements whose content is not text a reader sees. */
const HIDDEN_TAGS = /^(script|style|noscript|template|svg)$/i;
/** A tag name right after `<` or `</`, followed by a word boundary. */
const TAG_NAME = /\/?([a-zA-Z][a-zA-Z0-9-]*)\b/y;

/** The text of an HTML document. */
export function htmlToText(html: string): string {
  const parts: string[] = [];
  /** Searches that found nothing from some point on, so they find nothing later either. */
  const exhausted = new Set<string>();
  let at = 0;
  while (at < html.length) {
    const open = html.indexOf('<', at);
    if (open === -1) break;
    parts.push(html.slice(at, open));
    const end = markupEnd(html, open, exhausted);
    if (end === undefined) {
      // No `>` anywhere after: the rest is text.
      at = open;
      break;
    }
    parts.push(end.replacement);
    at = end.next;
  }
  parts.push(html.slice(at));
  return decodeEntities(parts.join(''))
    .split('\n')
    .map((line) => line.replace(/[ \t\r\f\v]+/g, ' ').trim())
    .filter((line) => line !== '')
    .join('\n')
    .trim();
}

/** Where the markup starting with the `<` at `open` ends, and what stands in for it. */
function markupEnd(html: string, open: number, exhausted: Set<string>): { next: number; replacement: string } | undefined {
  if (html.startsWith('<!--', open)) {
    // An unclosed comment runs to the end, as in a browser.
    const close = search(html, '-->', open + 4, exhausted);
    return { next: close === -1 ? html.length : close + 3, replacement: '' };
  }
  const gt = search(html, '>', open + 1, exhausted);
  if (gt === -1) return undefined;
  TAG_NAME.lastIndex = open + 1;
  const name = TAG_NAME.exec(html)?.[1];
  if (name === undefined) return { next: gt + 1, replacement: '' };
  const closing = html[open + 1] === '/';
  if (!closing && HIDDEN_TAGS.test(name)) {
    const after = closeTagEnd(html, name, gt + 1, exhausted);
    if (after !== undefined) return { next: after, replacement: '' };
  }
  return { next: gt + 1, replacement: BLOCK_TAGS.test(name) ? '\n' : '' };
}

/** indexOf that remembers a miss. */
function search(html: string, needle: string, from: number, exhausted: Set<string>): number {
  if (exhausted.has(needle)) return -1;
  const found = html.indexOf(needle, from);
  if (found === -1) exhausted.add(needle);
  return found;
}

/** Index after `</name>` (any case, spaces before `>`) at or after `from`. */
function closeTagEnd(html: string, name: string, from: number, exhausted: Set<string>): number | undefined {
  const key = `</${name.toLowerCase()}`;
  if (exhausted.has(key)) return undefined;
  const pattern = new RegExp(`</${name}\\s*>`, 'gi');
  pattern.lastIndex = from;
  const match = pattern.exec(html);
  if (match === null) {
    exhausted.add(key);
    return undefined;
  }
  return match.index + match[0].length;
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
  });
}
