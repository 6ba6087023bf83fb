/**
 * What a run has streamed so far, kept by the run so that each event it
 * publishes stands on its own: its seq, and on deltas the reply so far with
 * its tool calls. Consumers (channel mappers, HTTP watchers) then need no
 * per-run state of their own.
 */

import type { LoopEvent } from './loop.js';
import type { ReplySoFar, RunEvent } from './types.js';
import type { ToolCallBlock } from '../messages/types.js';

type RunEventBody = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'runId' | 'sessionKey' | 'sessionId' | 'seq'> : never) : never;

export class RunProgress {
  readonly #runId: string;
  readonly #sessionKey: string;
  readonly #sessionId: string | undefined;
  #seq = 0;
  /** Text of the run's earlier assistant messages. */
  #prefix = '';
  /** Text of the current assistant message. */
  #itemText = '';
  #itemIndex = 1;
  readonly #toolCalls: ToolCallBlock[] = [];

  constructor(runId: string, sessionKey: string, sessionId: string | undefined) {
    this.#runId = runId;
    this.#sessionKey = sessionKey;
    this.#sessionId = sessionId;
  }

  /** The reply so far: text across the run's messages, then its tool calls. */
  get reply(): ReplySoFar {
    return { text: this.#prefix + this.#itemText, toolCalls: this.#toolCalls.slice() };
  }

  /** Give `body` the run's identity and the next seq. */
  event(body: RunEventBody): RunEvent {
    this.#seq += 1;
    const event = { ...body, runId: this.#runId, sessionKey: this.#sessionKey, seq: this.#seq } as RunEvent;
    if (this.#sessionId !== undefined) event.sessionId = this.#sessionId;
    return event;
  }

  /** The run event for a loop event, or undefined for an empty delta (nothing to tell). */
  fromLoop(event: LoopEvent): RunEvent | undefined {
    switch (event.type) {
      case 'text.delta':
        if (event.delta === '') return undefined;
        // `text` is cumulative per assistant message; it restarts (text === delta) after tool calls.
        if (event.text === event.delta && this.#itemText !== '') {
          this.#prefix += this.#itemText;
          this.#itemIndex += 1;
        }
        this.#itemText = event.text;
        return this.event({ ...event, itemIndex: this.#itemIndex, reply: this.reply });
      case 'thinking.delta':
        return event.delta === '' ? undefined : this.event(event);
      case 'tool.call':
        this.#toolCalls.push({ type: 'toolCall', id: event.toolCallId, name: event.name, arguments: event.arguments });
        return this.event({ ...event, reply: this.reply });
      default:
        return this.event(event);
    }
  }
}
