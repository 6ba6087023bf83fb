/**
 * One chat message as DOM: user text as plain text, assistant text as
 * markdown, thinking, tool calls and tool results collapsed in <details>.
 */

import { highlightWithin } from './code-highlight-loader.js';
import { createCopyButton } from './copy-button.js';
import { createEl } from './dom.js';
import type { Block, ChatMessage } from './frames.js';
import { renderMarkdown } from './markdown.js';

/** The text each rendered user or assistant row holds, for copy, edit and regenerate. */
const rowTexts = new WeakMap<HTMLElement, string>();

/** The plain text of a row made by renderMessage ('' for tool results and unknown rows). */
export function rowText(row: Element): string {
  return row instanceof HTMLElement ? (rowTexts.get(row) ?? '') : '';
}

/** Extra state of a message being streamed or just ended. */
export interface MessageStatus {
  streaming?: boolean;
  /** The run ended with an error: the gateway's text. */
  errorText?: string;
  aborted?: boolean;
}

/** Build the element for one message. */
export function renderMessage(message: ChatMessage, status: MessageStatus = {}): HTMLElement {
  const role = message.role === 'user' || message.role === 'toolResult' ? message.role : 'assistant';
  const row = createEl('div', { className: `msg msg-${role}`, attrs: { 'data-role': role } });
  if (message.id) row.dataset['id'] = message.id;
  if (role === 'toolResult') {
    row.appendChild(renderToolResult(message));
    return row;
  }
  const bubble = createEl('div', { className: 'bubble' });
  if (role === 'user') {
    const text = message.blocks.map((block) => blockPlainText(block)).filter(Boolean).join('\n');
    bubble.appendChild(createEl('div', { className: 'user-text', text }));
  } else {
    for (const block of message.blocks) bubble.appendChild(renderAssistantBlock(block));
  }
  const errorText = status.errorText ?? (message.stopReason === 'error' ? message.errorMessage ?? 'The run failed.' : undefined);
  if (errorText !== undefined) bubble.appendChild(createEl('div', { className: 'run-error', text: errorText, attrs: { role: 'alert' } }));
  if (status.aborted || message.stopReason === 'aborted') bubble.appendChild(createEl('div', { className: 'run-note', text: 'Stopped.' }));
  if (status.streaming) {
    row.classList.add('streaming');
    if (message.blocks.length === 0) bubble.appendChild(createEl('div', { className: 'typing', text: '…', attrs: { 'aria-label': 'Thinking' } }));
  }
  if (bubble.childNodes.length === 0) bubble.appendChild(createEl('div', { className: 'run-note', text: '(empty reply)' }));
  const text = message.blocks.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n\n');
  rowTexts.set(row, text);
  const column = createEl('div', { className: 'msg-body' }, [bubble]);
  if (!status.streaming) {
    column.appendChild(renderActions(message, text));
    if (role === 'assistant') highlightWithin(bubble);
  }
  row.appendChild(column);
  return row;
}

/** Under a finished message: its time and a copy button (regenerate and edit are added by the page). */
function renderActions(message: ChatMessage, text: string): HTMLElement {
  const actions = createEl('div', { className: 'msg-actions' });
  if (message.timestamp !== undefined && Number.isFinite(message.timestamp)) actions.appendChild(renderTime(message.timestamp));
  if (text !== '') actions.appendChild(createCopyButton('Copy', 'copy-message', () => text));
  return actions;
}

/** `14:05` for today, `3 Dec 14:05` before; the full date and time on hover. WebClaw-style seconds are accepted. */
function renderTime(timestamp: number): HTMLElement {
  const date = new Date(timestamp < 1e12 ? timestamp * 1000 : timestamp);
  const sameDay = date.toDateString() === new Date().toDateString();
  const clock = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const text = sameDay ? clock : `${date.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${clock}`;
  return createEl('time', { className: 'msg-time', text, attrs: { datetime: date.toISOString(), title: date.toLocaleString() } });
}

function renderAssistantBlock(block: Block): HTMLElement {
  switch (block.type) {
    case 'text': {
      const body = createEl('div', { className: 'md' });
      body.appendChild(renderMarkdown(block.text));
      return body;
    }
    case 'thinking':
      return renderCollapsed('thinking', 'Thinking', block.thinking);
    case 'toolCall':
      return renderCollapsed('tool-call', `Tool call: ${block.name}`, formatArguments(block.arguments));
    case 'image':
      return createEl('div', { className: 'run-note', text: '[image]' });
  }
}

function renderToolResult(message: ChatMessage): HTMLElement {
  const label = `Tool result${message.toolName ? `: ${message.toolName}` : ''}${message.isError ? ' (error)' : ''}`;
  const text = message.blocks.map((block) => blockPlainText(block)).filter(Boolean).join('\n');
  return renderCollapsed(message.isError ? 'tool-result tool-error' : 'tool-result', label, text);
}

function renderCollapsed(className: string, summary: string, body: string): HTMLElement {
  return createEl('details', { className: `collapsed ${className}` }, [
    createEl('summary', { text: summary }),
    createEl('pre', { text: body }),
  ]);
}

function blockPlainText(block: Block): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'thinking':
      return block.thinking;
    case 'toolCall':
      return `${block.name}(${formatArguments(block.arguments)})`;
    case 'image':
      return '[image]';
  }
}

function formatArguments(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, null, 2) ?? '';
  } catch {
    return String(value);
  }
}
