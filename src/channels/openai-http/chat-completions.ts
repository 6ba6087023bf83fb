/**
 * `POST /v1/chat/completions` (docs/protocol.md §7.1): one agent turn per call,
 * answered as `chat.completion` JSON or as `chat.completion.chunk` SSE frames
 * ending with `data: [DONE]`. A run that stops at the client's tools answers
 * with `tool_calls` and `finish_reason: "tool_calls"`; the next call's `tool`
 * messages continue it.
 */

import { randomUUID } from 'node:crypto';
import type { ToolCallBlock } from '../../messages/types.js';
import { parseChatTools, type ClientToolRequest } from './client-tools.js';
import {
  SESSION_KEY_RESPONSE_HEADER,
  chatUsage,
  nowSeconds,
  requireModelAgent,
  requiredCallMissing,
  resolveRoute,
  runFailedError,
  sessionAwaitingResults,
  sessionHasHistory,
  startClientRun,
  withToolInstruction,
  type EndpointContext,
} from './endpoint-support.js';
import { isWritable, openAiErrorBody, sendJson, writeSse } from './http-io.js';
import type { RunOutcome } from './run-watch.js';
import { ChatCompletionBodySchema, parseBody, type ChatCompletionBody } from './schemas.js';
import { openSseStream } from './sse-stream.js';
import { buildTurnInput, normalizeChatMessages, trailingToolResults, type TurnInput } from './turn-input.js';

interface CompletionCall {
  body: ChatCompletionBody;
  runId: string;
  created: number;
  sessionKey: string;
  turn: TurnInput;
  clientTools: ClientToolRequest | undefined;
}

/** Validate, resolve the session and run the turn; throws OpenAiRequestError before any byte is sent. */
export async function handleChatCompletions(ctx: EndpointContext): Promise<void> {
  const body = parseBody(ChatCompletionBodySchema, ctx.body);
  const agentId = requireModelAgent(body.model, ctx.deps.agentIds());
  const clientTools = parseChatTools(body);
  const messages = normalizeChatMessages(body.messages);
  const route = resolveRoute(ctx, agentId, body.user, 'openai');
  // Tool results with no session hint continue the session whose run asked for them.
  const awaiting = route.source === 'ephemeral' ? sessionAwaitingResults(ctx, trailingToolResults(messages)) : undefined;
  const sessionKey = awaiting ?? route.sessionKey;
  const turn = buildTurnInput(messages, sessionHasHistory(ctx, sessionKey), 'messages');
  const call: CompletionCall = {
    body,
    runId: `chatcmpl_${randomUUID()}`,
    created: nowSeconds(),
    sessionKey,
    turn: withToolInstruction(turn, clientTools),
    clientTools,
  };
  if (body.stream === true) await streamCompletion(ctx, call);
  else await completeOnce(ctx, call);
}

async function completeOnce(ctx: EndpointContext, call: CompletionCall): Promise<void> {
  const run = await startClientRun(ctx, call.sessionKey, call.runId, call.turn, { clientTools: call.clientTools, turnParam: 'messages' });
  const outcome = await run.outcome;
  if (!isWritable(ctx.res)) return;
  const missing = requiredCallMissing(outcome, call.clientTools);
  if (missing !== undefined) throw runFailedError(missing, 'api_error');
  if (outcome.status === 'error') throw runFailedError(outcome);
  const calls = outcome.clientToolCalls ?? [];
  const message: Record<string, unknown> = { role: 'assistant', content: calls.length > 0 && outcome.text === '' ? null : outcome.text };
  if (calls.length > 0) message.tool_calls = calls.map((toolCall) => ({ ...wireToolCall(toolCall) }));
  sendJson(
    ctx.res,
    200,
    {
      id: call.runId,
      object: 'chat.completion',
      created: call.created,
      model: call.body.model,
      choices: [{ index: 0, message, finish_reason: finishReason(outcome) }],
      usage: chatUsage(outcome.usage),
    },
    { [SESSION_KEY_RESPONSE_HEADER]: call.sessionKey },
  );
}

async function streamCompletion(ctx: EndpointContext, call: CompletionCall): Promise<void> {
  const { res } = ctx;
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) => ({
    id: call.runId,
    object: 'chat.completion.chunk',
    created: call.created,
    model: call.body.model,
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  });
  const stream = openSseStream(ctx, (delta) => writeSse(res, chunk({ content: delta }, null)));
  const run = await startClientRun(ctx, call.sessionKey, call.runId, call.turn, {
    onDelta: stream.onDelta,
    clientTools: call.clientTools,
    turnParam: 'messages',
  });
  stream.open({ [SESSION_KEY_RESPONSE_HEADER]: call.sessionKey }, () => writeSse(res, chunk({ role: 'assistant' }, null)));
  const ran = await stream.until(run.outcome);
  if (!isWritable(res)) return;
  const missing = requiredCallMissing(ran, call.clientTools);
  const outcome = missing ?? ran;
  if (outcome.status === 'error') {
    const type = missing === undefined ? 'server_error' : 'api_error';
    writeSse(res, openAiErrorBody({ message: outcome.error ?? 'The run failed.', type, code: 'run_failed' }));
    stream.end();
    return;
  }
  stream.completeWith(outcome.text);
  // Each call whole in one chunk: its identity and its complete arguments.
  (outcome.clientToolCalls ?? []).forEach((toolCall, index) => {
    writeSse(res, chunk({ tool_calls: [{ index, ...wireToolCall(toolCall) }] }, null));
  });
  writeSse(res, chunk({}, finishReason(outcome)));
  if (call.body.stream_options?.include_usage === true) {
    writeSse(res, { ...chunk({}, null), choices: [], usage: chatUsage(outcome.usage) });
  }
  writeSse(res, '[DONE]');
  stream.end();
}

/** OpenAI's finish reasons; an aborted run (e.g. `chat.abort` from another client) ends as `stop`. */
function finishReason(outcome: RunOutcome): 'stop' | 'length' | 'tool_calls' {
  if ((outcome.clientToolCalls ?? []).length > 0) return 'tool_calls';
  return outcome.stopReason === 'length' ? 'length' : 'stop';
}

/** A call in OpenAI's shape: the arguments as a JSON string. */
function wireToolCall(call: ToolCallBlock): { id: string; type: 'function'; function: { name: string; arguments: string } } {
  return { id: call.id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } };
}
