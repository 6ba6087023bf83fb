/** "Copy" buttons: put a text on the clipboard and say so on the button for a moment. */

import { createEl } from './dom.js';

const CONFIRM_MS = 1_500;

/** A button that copies what `getText` returns when clicked. */
export function createCopyButton(label: string, className: string, getText: () => string): HTMLButtonElement {
  const button = createEl('button', { className: `quiet copy ${className}`, text: label, attrs: { type: 'button', title: 'Copy to the clipboard' } });
  button.addEventListener('click', () => void copy(button, label, getText()));
  return button;
}

async function copy(button: HTMLButtonElement, label: string, text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    // No clipboard (an insecure origin, or permission refused): say so instead of failing silently.
    button.textContent = 'Copy failed';
  }
  setTimeout(() => (button.textContent = label), CONFIRM_MS);
}
