/**
 * One chat message as DOM: user text as plain text, assistant text as
 * markdown, thinking, tool calls and tool results collapsed in <details>.
 */

import { createEl } from './dom.js';
import type { Block, ChatMessage } from './frames.js';
import { renderMarkdown } from './markdown.js';

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
  row.appendChild(bubble);
  return row;
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
