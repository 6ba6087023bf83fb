/**
 * Regenerate and edit for the last turn of the open conversation. The
 * protocol has no way to replace a message, so both send a new turn: the
 * earlier exchange stays in the history, as it does on the gateway.
 */

import { createEl } from './dom.js';
import { rowText } from './render-message.js';

export interface TurnActionHandlers {
  /** Send `text` again as a new turn. */
  regenerate(text: string): void;
  /** Put `text` in the composer for editing. */
  edit(text: string): void;
}

/** Give the last user message an Edit button, and the reply after it a Regenerate button. Call after every re-render. */
export function markLastTurn(container: HTMLElement, handlers: TurnActionHandlers): void {
  for (const old of container.querySelectorAll('.turn-action')) old.remove();
  const rows = [...container.querySelectorAll<HTMLElement>(':scope > .msg')];
  let lastUserIndex = -1;
  rows.forEach((row, index) => {
    if (row.classList.contains('msg-user')) lastUserIndex = index;
  });
  if (lastUserIndex === -1) return;
  const userRow = rows[lastUserIndex];
  const text = rowText(userRow);
  if (text === '') return;
  addAction(userRow, 'Edit', 'edit-last', () => handlers.edit(text));
  const replies = rows.slice(lastUserIndex + 1).filter((row) => row.classList.contains('msg-assistant') && !row.classList.contains('streaming'));
  const reply = replies[replies.length - 1];
  if (reply !== undefined) addAction(reply, 'Regenerate', 'regenerate', () => handlers.regenerate(text));
}

function addAction(row: HTMLElement, label: string, className: string, onClick: () => void): void {
  const actions = row.querySelector('.msg-actions');
  if (actions === null) return;
  const button = createEl('button', { className: `quiet turn-action ${className}`, text: label, attrs: { type: 'button' } });
  button.addEventListener('click', onClick);
  actions.appendChild(button);
}
