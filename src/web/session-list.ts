/** The sidebar: one button per session, newest first, the open one marked. */

import { createEl } from './dom.js';
import type { SessionRow } from './frames.js';

const MAIN_SESSION_KEY = 'agent:main:main';
const PREVIEW_CHARS = 80;

/** The name shown for a session: its label or derived title, else a generic one. */
export function sessionTitle(key: string, row: SessionRow | undefined): string {
  if (row?.title) return row.title;
  return key.toLowerCase() === MAIN_SESSION_KEY || key === 'main' ? 'Main' : 'New chat';
}

/** Re-render the list; `onSelect` gets the canonical key of the clicked row. */
export function renderSessionList(
  list: HTMLElement,
  rows: SessionRow[],
  currentKey: string | null,
  onSelect: (key: string) => void,
): void {
  const items = rows.map((row) => {
    const current = currentKey !== null && row.key.toLowerCase() === currentKey.toLowerCase();
    const button = createEl('button', { className: 'session', attrs: { type: 'button', 'data-key': row.key } }, [
      createEl('span', { className: 'session-title', text: sessionTitle(row.key, row) }),
      createEl('span', { className: 'session-preview', text: row.preview.slice(0, PREVIEW_CHARS) }),
    ]);
    if (current) button.setAttribute('aria-current', 'true');
    button.addEventListener('click', () => onSelect(row.key));
    return createEl('li', {}, [button]);
  });
  list.replaceChildren(...items);
}
