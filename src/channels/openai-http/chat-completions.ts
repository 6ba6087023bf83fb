/**
 * `POST /v1/chat/completions` (docs/protocol.md §7.1): one agent turn per call,
 * answered as `chat.completion` JSON or as `chat.completion.chunk` SSE frames
 * ending with `data: [DONE]`.
 */

import { randomUUID } from 'node:crypto';
import {
  SESSION_KEY_RESPONSE_HEADER,
  chatUsage,
  nowSeconds,
  refuseClientTools,
  requireModelAgent,
  resolveRoute,
  runFailedError,
  sessionHasHistory,
  startClientRun,
  type EndpointContext,
} from './endpoint-support.js';
import { isWritable, openAiErrorBody, sendJson, writeSse } from './http-io.js';
import type { RunOutcome } from './run-watch.js';
import { ChatCompletionBodySchema, parseBody, type ChatCompletionBody } from './schemas.js';
import { openSseStream } from './sse-stream.js';
import { buildTurnInput, normalizeChatMessages, type TurnInput } from './turn-input.js';

interface CompletionCall {
  body: ChatCompletionBody;
  runId: string;
  created: number;
  sessionKey: string;
  turn: TurnInput;
}

/** Validate, resolve the session and run the turn; throws OpenAiRequestError before any byte is sent. */
export async function handleChatCompletions(ctx: EndpointContext): Promise<void> {
  const body = parseBody(ChatCompletionBodySchema, ctx.body);
  const agentId = requireModelAgent(body.model, ctx.deps.agentIds());
  refuseClientTools(body);
  const messages = normalizeChatMessages(body.messages);
  const route = resolveRoute(ctx, agentId, body.user, 'openai');
  const turn = buildTurnInput(messages, sessionHasHistory(ctx, route.sessionKey), 'messages');
  const call: CompletionCall = {
    body,
    runId: `chatcmpl_${randomUUID()}`,
    created: nowSeconds(),
    sessionKey: route.sessionKey,
    turn,
  };
  if (body.stream === true) await streamCompletion(ctx, call);
  else await completeOnce(ctx, call);
}

async function completeOnce(ctx: EndpointContext, call: CompletionCall): Promise<void> {
  const run = await startClientRun(ctx, call.sessionKey, call.runId, call.turn);
  const outcome = await run.outcome;
  if (!isWritable(ctx.res)) return;
  if (outcome.status === 'error') throw runFailedError(outcome);
  sendJson(
    ctx.res,
    200,
    {
      id: call.runId,
      object: 'chat.completion',
      created: call.created,
      model: call.body.model,
      choices: [
        { index: 0, message: { role: 'assistant', content: outcome.text }, finish_reason: finishReason(outcome) },
      ],
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
  const run = await startClientRun(ctx, call.sessionKey, call.runId, call.turn, { onDelta: stream.onDelta });
  stream.open({ [SESSION_KEY_RESPONSE_HEADER]: call.sessionKey }, () => writeSse(res, chunk({ role: 'assistant' }, null)));
  const outcome = await stream.until(run.outcome);
  if (!isWritable(res)) return;
  if (outcome.status === 'error') {
    writeSse(res, openAiErrorBody({ message: outcome.error ?? 'The run failed.', type: 'server_error', code: 'run_failed' }));
    stream.end();
    return;
  }
  stream.completeWith(outcome.text);
  writeSse(res, chunk({}, finishReason(outcome)));
  if (call.body.stream_options?.include_usage === true) {
    writeSse(res, { ...chunk({}, null), choices: [], usage: chatUsage(outcome.usage) });
  }
  writeSse(res, '[DONE]');
  stream.end();
}

/** OpenAI's finish reasons; an aborted run (e.g. `chat.abort` from another client) ends as `stop`. */
function finishReason(outcome: RunOutcome): 'stop' | 'length' {
  return outcome.stopReason === 'length' ? 'length' : 'stop';
}
