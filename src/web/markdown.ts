/**
 * Markdown to DOM without an HTML string in between: markdown-it parses (raw
 * HTML off), and its tokens are turned into elements from a fixed tag list,
 * with text always set as text nodes. Model output therefore cannot create
 * markup, and the page never assigns innerHTML.
 */

import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';
import { createCopyButton } from './copy-button.js';
import { createEl } from './dom.js';

/** Link targets the page will follow; anything else stays plain text. */
const SAFE_LINK = /^(?:https?:|mailto:)/i;

const ALLOWED_TAGS = new Set([
  'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'ul', 'ol', 'li', 'strong', 'em', 's',
  'code', 'pre', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'hr', 'br',
]);

const md = new MarkdownIt({ html: false, linkify: true, typographer: false });
// Images would fetch from wherever the model points; show their markdown as text instead.
md.disable(['image']);
md.validateLink = (url: string) => SAFE_LINK.test(url.trim());

/** Render markdown into a fragment of safe elements. */
export function renderMarkdown(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  appendTokens(md.parse(text, {}), fragment);
  return fragment;
}

function appendTokens(tokens: Token[], root: Node): void {
  const stack: Node[] = [root];
  for (const token of tokens) {
    const parent = stack[stack.length - 1] ?? root;
    if (token.nesting === 1) {
      // Tight lists mark their paragraphs hidden: the content goes straight into the <li>.
      if (token.hidden) {
        stack.push(parent);
        continue;
      }
      const element = createElement(token);
      // A wide table scrolls sideways in its own box instead of squeezing its words apart.
      parent.appendChild(element.tagName === 'TABLE' ? createEl('div', { className: 'table-scroll' }, [element]) : element);
      stack.push(element);
    } else if (token.nesting === -1) {
      if (stack.length > 1) stack.pop();
    } else {
      appendLeaf(token, parent);
    }
  }
}

function appendLeaf(token: Token, parent: Node): void {
  switch (token.type) {
    case 'inline':
      appendTokens(token.children ?? [], parent);
      return;
    case 'text':
    case 'html_inline':
    case 'html_block':
      parent.appendChild(document.createTextNode(token.content));
      return;
    case 'softbreak':
      parent.appendChild(document.createTextNode('\n'));
      return;
    case 'hardbreak':
      parent.appendChild(document.createElement('br'));
      return;
    case 'hr':
      parent.appendChild(document.createElement('hr'));
      return;
    case 'code_inline': {
      const code = document.createElement('code');
      code.textContent = token.content;
      parent.appendChild(code);
      return;
    }
    case 'fence':
    case 'code_block': {
      const pre = document.createElement('pre');
      const code = document.createElement('code');
      const lang = token.info.trim().split(/\s+/)[0] ?? '';
      const knownLang = /^[\w+#.-]{1,32}$/.test(lang) ? lang : '';
      if (knownLang !== '') code.dataset['lang'] = knownLang;
      code.textContent = token.content;
      pre.appendChild(code);
      const head = createEl('div', { className: 'code-head' }, [
        createEl('span', { className: 'code-lang', text: knownLang }),
        createCopyButton('Copy', 'copy-code', () => token.content),
      ]);
      parent.appendChild(createEl('div', { className: 'code-block' }, [head, pre]));
      return;
    }
    default:
      if (token.content) parent.appendChild(document.createTextNode(token.content));
  }
}

function createElement(token: Token): HTMLElement {
  const tag = ALLOWED_TAGS.has(token.tag) ? token.tag : 'span';
  const element = document.createElement(tag);
  if (tag === 'a') {
    const href = token.attrGet('href');
    if (typeof href === 'string' && SAFE_LINK.test(href)) {
      element.setAttribute('href', href);
      element.setAttribute('target', '_blank');
      element.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  } else if (tag === 'ol') {
    // markdown-it sets `start` only when a list does not begin at 1; Number(null) would make it 0.
    const start = token.attrGet('start');
    if (start !== null && /^\d{1,9}$/.test(String(start))) element.setAttribute('start', String(start));
  } else if (tag === 'th' || tag === 'td') {
    // markdown-it aligns cells with a style attribute, which the CSP would drop; use a class.
    const align = /text-align:(left|right|center)/.exec(String(token.attrGet('style') ?? ''))?.[1];
    if (align) element.className = `align-${align}`;
  }
  return element;
}
