/**
 * The message list: history rows plus at most one streaming assistant row,
 * re-rendered at most once per animation frame, kept scrolled to the bottom
 * while the reader is there.
 */

import type { ChatMessage } from './frames.js';
import { renderMessage, type MessageStatus } from './render-message.js';

/** Within this many pixels of the bottom the view follows new content. */
const STICK_TO_BOTTOM_PX = 80;

export class ChatView {
  readonly #container: HTMLElement;
  #stream: { runId: string; row: HTMLElement; message: ChatMessage | null } | null = null;
  #frame = 0;
  readonly #afterChange: () => void;

  /** `afterChange` runs after rows are added, replaced or removed (not on every streamed delta). */
  constructor(container: HTMLElement, afterChange: () => void = () => undefined) {
    this.#container = container;
    this.#afterChange = afterChange;
  }

  /** Run id of the streaming row, if any. */
  get streamRunId(): string | null {
    return this.#stream?.runId ?? null;
  }

  /** Drop everything, including the streaming row. */
  clear(): void {
    this.#cancelFrame();
    this.#stream = null;
    this.#container.replaceChildren();
  }

  /** Show a fresh history; a streaming row stays below it. */
  setMessages(messages: ChatMessage[]): void {
    const follow = this.#atBottom();
    const rows = messages.map((message) => renderMessage(message));
    if (this.#stream) rows.push(this.#stream.row);
    this.#container.replaceChildren(...rows);
    if (follow || this.#container.scrollTop === 0) this.#scrollToBottom();
    this.#afterChange();
  }

  /** Append one finished row (e.g. the user's message before the gateway stores it). */
  appendMessage(message: ChatMessage): HTMLElement {
    const follow = this.#atBottom();
    const row = renderMessage(message);
    if (this.#stream) this.#container.insertBefore(row, this.#stream.row);
    else this.#container.appendChild(row);
    if (follow || message.role === 'user') this.#scrollToBottom();
    this.#afterChange();
    return row;
  }

  /** Show the cumulative text of a running reply; null shows a typing indicator. */
  updateStream(runId: string, message: ChatMessage | null): void {
    if (!this.#stream || this.#stream.runId !== runId) {
      this.#cancelFrame();
      const row = renderMessage(message ?? emptyAssistant(), { streaming: true });
      this.#stream = { runId, row, message };
      const follow = this.#atBottom();
      this.#container.appendChild(row);
      if (follow) this.#scrollToBottom();
      this.#afterChange();
      return;
    }
    this.#stream.message = message;
    if (this.#frame === 0) this.#frame = requestAnimationFrame(() => this.#flush());
  }

  /** Replace the streaming row of `runId` with its final form (created when no delta came). */
  endStream(runId: string, message: ChatMessage | null, status: MessageStatus): void {
    const stream = this.#stream?.runId === runId ? this.#stream : null;
    const finalMessage = message ?? stream?.message ?? emptyAssistant();
    const row = renderMessage(finalMessage, status);
    const follow = this.#atBottom();
    if (stream) {
      this.#cancelFrame();
      this.#stream = null;
      stream.row.replaceWith(row);
    } else {
      this.#container.appendChild(row);
    }
    if (follow) this.#scrollToBottom();
    this.#afterChange();
  }

  /** Remove the streaming row without a final form (the send failed). */
  dropStream(runId: string): void {
    if (this.#stream?.runId !== runId) return;
    this.#cancelFrame();
    this.#stream.row.remove();
    this.#stream = null;
    this.#afterChange();
  }

  #flush(): void {
    this.#frame = 0;
    const stream = this.#stream;
    if (!stream) return;
    const follow = this.#atBottom();
    const row = renderMessage(stream.message ?? emptyAssistant(), { streaming: true });
    stream.row.replaceWith(row);
    stream.row = row;
    if (follow) this.#scrollToBottom();
  }

  #cancelFrame(): void {
    if (this.#frame !== 0) cancelAnimationFrame(this.#frame);
    this.#frame = 0;
  }

  #atBottom(): boolean {
    const c = this.#container;
    return c.scrollHeight - c.scrollTop - c.clientHeight < STICK_TO_BOTTOM_PX;
  }

  #scrollToBottom(): void {
    this.#container.scrollTop = this.#container.scrollHeight;
  }
}

function emptyAssistant(): ChatMessage {
  return { role: 'assistant', blocks: [] };
}
