/**
 * Loads the highlighter (a separate asset, named in index.html's
 * `pincer-highlighter` meta tag) the first time a finished reply shows a code
 * block with a language, then highlights those blocks. Pages without code
 * never download it.
 */

type HighlightModule = typeof import('./highlight.js');

let loading: Promise<HighlightModule | null> | null = null;

/** Highlight the language-tagged code blocks under `root`, loading the highlighter on first need. */
export function highlightWithin(root: HTMLElement): void {
  const blocks = [...root.querySelectorAll<HTMLElement>('code[data-lang]')].filter((code) => code.dataset['highlighted'] !== 'true');
  if (blocks.length === 0) return;
  loading ??= loadHighlighter();
  void loading.then((module) => {
    if (module === null) return;
    for (const code of blocks) module.highlightCode(code, code.dataset['lang'] ?? '');
  });
}

async function loadHighlighter(): Promise<HighlightModule | null> {
  const url = document.querySelector<HTMLMetaElement>('meta[name="pincer-highlighter"]')?.content;
  if (!url) return null;
  try {
    return (await import(/* @vite-ignore */ url)) as HighlightModule;
  } catch {
    // Plain code is still readable; a failed download must not break the chat.
    return null;
  }
}
