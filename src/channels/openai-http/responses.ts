/**
 * `POST /v1/responses` (docs/protocol.md §7.1): a minimal OpenAI Responses API.
 * Non-streaming returns one `response` object; streaming sends the
 * semantic events (`response.created` … `response.output_text.delta` …
 * `response.completed`), each as `event: <type>` plus `data: {type, sequence_number, …}`.
 * Like OpenAI's API (and unlike Chat Completions) the stream ends without `[DONE]`.
 * A run that stops at the client's tools answers with `function_call` output
 * items; the next call's `function_call_output` items continue it.
 */

import { randomUUID } from 'node:crypto';
import type { ToolCallBlock, Usage } from '../../messages/types.js';
import { parseResponsesTools, type ClientToolRequest } from './client-tools.js';
import {
  SESSION_KEY_RESPONSE_HEADER,
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
import { isWritable, sendJson, writeSse } from './http-io.js';
import { invalidParam } from './request-error.js';
import type { RunOutcome } from './run-watch.js';
import { ResponsesBodySchema, parseBody, type ResponsesBody } from './schemas.js';
import { SESSION_KEY_HEADERS } from './session-routing.js';
import { openSseStream } from './sse-stream.js';
import { buildTurnInput, normalizeResponsesInput, trailingToolResults, type NormalizedMessage, type TurnInput } from './turn-input.js';

interface ResponseCall {
  body: ResponsesBody;
  runId: string;
  messageId: string;
  created: number;
  sessionKey: string;
  turn: TurnInput;
  clientTools: ClientToolRequest | undefined;
}

type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** Validate, resolve the session and run the turn; throws OpenAiRequestError before any byte is sent. */
export async function handleResponses(ctx: EndpointContext): Promise<void> {
  const body = parseBody(ResponsesBodySchema, ctx.body);
  const agentId = requireModelAgent(body.model, ctx.deps.agentIds());
  const clientTools = parseResponsesTools(body);
  const messages = normalizeResponsesInput(body.input, body.instructions);
  const sessionKey = responseSessionKey(ctx, body, agentId, messages);
  const turn = buildTurnInput(messages, sessionHasHistory(ctx, sessionKey), 'input');
  const call: ResponseCall = {
    body,
    runId: `resp_${randomUUID()}`,
    messageId: `msg_${randomUUID()}`,
    created: nowSeconds(),
    sessionKey,
    turn: withToolInstruction(turn, clientTools),
    clientTools,
  };
  if (body.stream === true) await streamResponse(ctx, call);
  else await respondOnce(ctx, call);
}

/**
 * A session-key header wins; else `previous_response_id` continues the
 * session of that response (while the agent still remembers the run); else
 * `user` / ephemeral as for chat completions, where function call outputs
 * with no other hint continue the session whose run asked for them.
 */
function responseSessionKey(ctx: EndpointContext, body: ResponsesBody, agentId: string, messages: NormalizedMessage[]): string {
  const hasHeader = SESSION_KEY_HEADERS.some((header) => ctx.req.headers[header] !== undefined);
  const previous = body.previous_response_id;
  if (!hasHeader && previous !== undefined && previous !== null) {
    const record = ctx.deps.assistant.run(previous);
    if (record === undefined || !previous.startsWith('resp_')) {
      throw invalidParam('previous_response_id', `Previous response with id '${previous}' not found.`, 'previous_response_not_found');
    }
    return record.sessionKey;
  }
  const route = resolveRoute(ctx, agentId, body.user, 'openresponses');
  const awaiting = route.source === 'ephemeral' ? sessionAwaitingResults(ctx, trailingToolResults(messages)) : undefined;
  return awaiting ?? route.sessionKey;
}

async function respondOnce(ctx: EndpointContext, call: ResponseCall): Promise<void> {
  const run = await startClientRun(ctx, call.sessionKey, call.runId, call.turn, { clientTools: call.clientTools, turnParam: 'input' });
  const outcome = await run.outcome;
  if (!isWritable(ctx.res)) return;
  const missing = requiredCallMissing(outcome, call.clientTools);
  if (missing !== undefined) throw runFailedError(missing, 'api_error');
  if (outcome.status === 'error') throw runFailedError(outcome);
  const status = finalStatus(outcome);
  const calls = (outcome.clientToolCalls ?? []).map((toolCall) => functionCallItem(toolCall, 'completed'));
  // With tool calls and no text, the calls are the whole output, as OpenAI answers.
  const output = calls.length > 0 && outcome.text === '' ? calls : [messageItem(call, outcome.text, status), ...calls];
  sendJson(ctx.res, 200, responseObject(call, status, output, outcome), {
    [SESSION_KEY_RESPONSE_HEADER]: call.sessionKey,
  });
}

async function streamResponse(ctx: EndpointContext, call: ResponseCall): Promise<void> {
  const { res } = ctx;
  let sequence = 0;
  const emit = (type: string, fields: Record<string, unknown>): void => {
    writeSse(res, { type, sequence_number: sequence++, ...fields }, type);
  };
  const part = { item_id: call.messageId, output_index: 0, content_index: 0 };
  const stream = openSseStream(ctx, (delta) => emit('response.output_text.delta', { ...part, delta, logprobs: [] }));
  const run = await startClientRun(ctx, call.sessionKey, call.runId, call.turn, {
    onDelta: stream.onDelta,
    clientTools: call.clientTools,
    turnParam: 'input',
  });
  stream.open({ [SESSION_KEY_RESPONSE_HEADER]: call.sessionKey }, () => {
    const initial = responseObject(call, 'in_progress', [], undefined);
    emit('response.created', { response: initial });
    emit('response.in_progress', { response: initial });
    emit('response.output_item.added', {
      output_index: 0,
      item: { type: 'message', id: call.messageId, role: 'assistant', content: [], status: 'in_progress' },
    });
    emit('response.content_part.added', { ...part, part: { type: 'output_text', text: '', annotations: [] } });
  });
  const ran = await stream.until(run.outcome);
  if (!isWritable(res)) return;
  const outcome = requiredCallMissing(ran, call.clientTools) ?? ran;
  if (outcome.status === 'error') {
    const failed = responseObject(call, 'failed', [], outcome);
    emit('response.failed', { response: failed });
    stream.end();
    return;
  }
  const text = stream.completeWith(outcome.text);
  const status = finalStatus(outcome);
  const item = messageItem(call, text, status);
  emit('response.output_text.done', { ...part, text, logprobs: [] });
  emit('response.content_part.done', { ...part, part: { type: 'output_text', text, annotations: [] } });
  emit('response.output_item.done', { output_index: 0, item });
  const calls = (outcome.clientToolCalls ?? []).map((toolCall, index) => {
    const outputIndex = index + 1;
    const done = functionCallItem(toolCall, 'completed');
    emit('response.output_item.added', { output_index: outputIndex, item: { ...functionCallItem(toolCall, 'in_progress'), arguments: '' } });
    emit('response.function_call_arguments.delta', { item_id: done.id, output_index: outputIndex, delta: done.arguments });
    emit('response.function_call_arguments.done', { item_id: done.id, output_index: outputIndex, name: done.name, arguments: done.arguments });
    emit('response.output_item.done', { output_index: outputIndex, item: done });
    return done;
  });
  emit(status === 'completed' ? 'response.completed' : 'response.incomplete', {
    response: responseObject(call, status, [item, ...calls], outcome),
  });
  stream.end();
}

/** A call the run handed to the client, as a `function_call` output item (`fc_` + the call id). */
function functionCallItem(call: ToolCallBlock, status: 'in_progress' | 'completed'): { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: string } {
  return { type: 'function_call', id: `fc_${call.id}`, call_id: call.id, name: call.name, arguments: JSON.stringify(call.arguments), status };
}

/** `length` and aborted runs are `incomplete`; everything else that did not fail is `completed`. */
function finalStatus(outcome: RunOutcome): ResponseStatus {
  if (outcome.status === 'error') return 'failed';
  if (outcome.status === 'aborted' || outcome.stopReason === 'length') return 'incomplete';
  return 'completed';
}

function messageItem(call: ResponseCall, text: string, status: ResponseStatus): Record<string, unknown> {
  return {
    type: 'message',
    id: call.messageId,
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [] }],
    phase: 'final_answer',
    status: status === 'completed' ? 'completed' : 'incomplete',
  };
}

/** The `response` object; field order follows the observed reply (docs/protocol.md §7.1). */
function responseObject(
  call: ResponseCall,
  status: ResponseStatus,
  output: Record<string, unknown>[],
  outcome: RunOutcome | undefined,
): Record<string, unknown> {
  let incomplete: { reason: string } | null = null;
  if (status === 'incomplete') incomplete = { reason: outcome?.status === 'aborted' ? 'interrupted' : 'max_output_tokens' };
  const error = status === 'failed' ? { code: 'server_error', message: outcome?.error ?? 'The run failed.' } : null;
  return {
    id: call.runId,
    object: 'response',
    created_at: call.created,
    status,
    error,
    incomplete_details: incomplete,
    model: call.body.model,
    output,
    previous_response_id: call.body.previous_response_id ?? null,
    usage: outcome === undefined ? null : responsesUsage(outcome.usage),
  };
}

/** Responses usage; `input_tokens` counts cached input too, as OpenAI's does; `cost` (USD) only when known. */
function responsesUsage(usage: Usage | undefined): Record<string, unknown> {
  const input = (usage?.input ?? 0) + (usage?.cacheRead ?? 0) + (usage?.cacheWrite ?? 0);
  const output = usage?.output ?? 0;
  const shaped: Record<string, unknown> = {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage?.cacheRead ?? 0, cache_write_tokens: usage?.cacheWrite ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage?.totalTokens ?? input + output,
  };
  if (usage?.cost !== undefined) shaped.cost = usage.cost.total;
  return shaped;
}
