/**
 * The conversation model every layer speaks: content blocks, messages by
 * role, token usage and stop reasons. A leaf: it imports nothing, so
 * providers and the agent loop use it without depending on storage, and the
 * session store extends it with what storage adds (ids, run ids).
 */

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string }
  | { type: 'toolCall'; id: string; name: string; arguments: Record<string, unknown> }
  | { type: 'image'; source: { type: 'base64'; media_type: string; data: string } };

/** A tool call the model made, as it appears in an assistant message. */
export type ToolCallBlock = Extract<ContentBlock, { type: 'toolCall' }>;

/** Token counts of one model call or, summed, of a run, as the provider reported them. `input` excludes cache reads and writes. */
export interface Usage {
  input: number;
  output: number;
  totalTokens: number;
  cacheRead?: number;
  cacheWrite?: number;
  /** USD, when the model's price is known (provider.cost or the estimates table); absent means unknown, not free. */
  cost?: UsageCost;
}

/** What the tokens of a Usage cost, per kind and in total, USD. */
export interface UsageCost {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  total: number;
}

export type Role = 'user' | 'assistant' | 'toolResult';

/** Why an assistant message ended. `interrupted`: the process died mid-run. */
export type StopReason = 'stop' | 'length' | 'toolUse' | 'aborted' | 'error' | 'interrupted';

/**
 * One message of a conversation. Fields beyond role, content and timestamp
 * belong to one role: usage, stopReason, errorMessage, provider and model to
 * assistant messages; toolCallId, toolName and isError to tool results.
 */
export interface Message {
  role: Role;
  /** Always an array of blocks, user messages included. */
  content: ContentBlock[];
  /** Epoch ms. */
  timestamp: number;
  /** Assistant messages. */
  usage?: Usage;
  stopReason?: StopReason;
  errorMessage?: string;
  provider?: string;
  model?: string;
  /**
   * Assistant messages: the run ended at this message's calls to tools the
   * client runs itself (OpenAI-compatible API); the client's next request
   * brings their results and continues the conversation.
   */
  awaitsClientTools?: boolean;
  /** toolResult messages. */
  toolCallId?: string;
  toolName?: string;
  isError?: boolean;
}

export type UserMessage = Message & { role: 'user' };
export type AssistantMessage = Message & { role: 'assistant' };
export type ToolResultMessage = Message & { role: 'toolResult'; toolCallId: string; toolName: string };
