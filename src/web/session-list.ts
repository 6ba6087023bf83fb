/**
 * The sidebar: one button per session, newest first, the open one marked.
 * Previews are plain text (the Markdown rendered, then read as text). Sessions
 * the OpenAI-compatible API created are hidden behind a toggle and labelled.
 */

import { createEl } from './dom.js';
import type { SessionRow } from './frames.js';
import { renderMarkdown } from './markdown.js';

const MAIN_SESSION_KEY = 'agent:main:main';
const PREVIEW_CHARS = 80;
/** Keys of sessions made by /v1 calls: `agent:<id>:openai:<uuid>`, `…:openresponses:<uuid>`, `…:openai-user:<user>`. */
const API_SESSION_KEY = /^agent:[^:]+:(?:openai|openresponses|openai-user):/i;

/** Whether the OpenAI-compatible API created this session. */
export function isApiSession(key: string): boolean {
  return API_SESSION_KEY.test(key);
}

/** The name shown for a session: its label or derived title, else a generic one. */
export function sessionTitle(key: string, row: SessionRow | undefined): string {
  if (row?.title) return row.title;
  if (isApiSession(key)) return 'API session';
  if (key.toLowerCase() === MAIN_SESSION_KEY || key === 'main') return 'Main';
  // Another agent's main session.
  return /^agent:[^:]+:main$/i.test(key) ? 'Main' : 'New chat';
}

/** Markdown source reduced to its visible text on one line. */
export function plainPreview(markdown: string): string {
  const fragment = renderMarkdown(markdown.slice(0, PREVIEW_CHARS * 4));
  // Code block headers hold a language name and a button label, not content.
  for (const head of fragment.querySelectorAll('.code-head')) head.remove();
  // Block elements are separate words once flattened to one line.
  for (const block of fragment.querySelectorAll('p, li, h1, h2, h3, h4, h5, h6, th, td, pre, blockquote')) block.append(' ');
  return (fragment.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, PREVIEW_CHARS);
}

export interface SessionListView {
  rows: SessionRow[];
  currentKey: string | null;
  /** Show the sessions the HTTP API created (the open one always shows). */
  showApiSessions: boolean;
  /** Agent id → name, when the gateway runs several agents: other agents' sessions carry a badge. */
  agentLabels?: ReadonlyMap<string, string>;
  defaultAgentId?: string;
  onSelect(key: string): void;
  onToggleApiSessions(): void;
}

/** Re-render the list; `onSelect` gets the canonical key of the clicked row. */
export function renderSessionList(list: HTMLElement, view: SessionListView): void {
  const isCurrent = (row: SessionRow): boolean => view.currentKey !== null && row.key.toLowerCase() === view.currentKey.toLowerCase();
  const apiCount = view.rows.filter((row) => isApiSession(row.key) && !isCurrent(row)).length;
  const shown = view.rows.filter((row) => view.showApiSessions || !isApiSession(row.key) || isCurrent(row));
  const items = shown.map((row) => {
    const title = createEl('span', { className: 'session-title', text: sessionTitle(row.key, row) });
    if (isApiSession(row.key)) title.prepend(createEl('span', { className: 'session-badge', text: 'API' }));
    const agentId = /^agent:([^:]+):/i.exec(row.key)?.[1]?.toLowerCase();
    if (view.agentLabels !== undefined && view.agentLabels.size > 1 && agentId !== undefined && agentId !== view.defaultAgentId) {
      title.prepend(createEl('span', { className: 'session-badge agent-badge', text: view.agentLabels.get(agentId) ?? agentId }));
    }
    const button = createEl('button', { className: 'session', attrs: { type: 'button', 'data-key': row.key } }, [
      title,
      createEl('span', { className: 'session-preview', text: plainPreview(row.preview) }),
    ]);
    if (isCurrent(row)) button.setAttribute('aria-current', 'true');
    button.addEventListener('click', () => view.onSelect(row.key));
    return createEl('li', {}, [button]);
  });
  if (apiCount > 0) {
    const label = view.showApiSessions ? `Hide API sessions (${apiCount})` : `Show API sessions (${apiCount})`;
    const toggle = createEl('button', { className: 'quiet api-toggle', text: label, attrs: { type: 'button' } });
    toggle.addEventListener('click', () => view.onToggleApiSessions());
    items.push(createEl('li', { className: 'api-toggle-row' }, [toggle]));
  }
  list.replaceChildren(...items);
}
