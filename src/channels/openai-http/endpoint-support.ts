/**
 * Steps shared by `/v1/chat/completions` and `/v1/responses`: model and
 * session resolution, starting the run with client-disconnect abort, and
 * mapping agent errors onto OpenAI error replies.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../../protocol/errors.js';
import type { ClientToolResult } from '../../agent/types.js';
import type { Usage } from '../../messages/types.js';
import { describeAcceptedModels, namedAgent, resolveModelAgent } from './models.js';
import { OpenAiRequestError, fromGatewayError, invalidParam } from './request-error.js';
import { startRun, type ActiveRun, type RunOutcome } from './run-watch.js';
import { resolveSessionRoute, type EphemeralKind, type SessionRoute } from './session-routing.js';
import { matchingCalls, requiredToolInstruction, type ClientToolRequest } from './client-tools.js';
import type { TurnInput } from './turn-input.js';
import type { OpenAiHttpDeps } from './types.js';

/** Response header naming the session a call ran in (lets a client continue an ephemeral session). */
export const SESSION_KEY_RESPONSE_HEADER = 'x-pincer-session-key';

export interface EndpointContext {
  deps: OpenAiHttpDeps;
  req: IncomingMessage;
  res: ServerResponse;
  /** Parsed JSON body, not yet validated. */
  body: unknown;
}

/** The agent a `model` selects; an unknown name is a 404 `model_not_found`, as OpenAI answers, listing what is accepted. */
export function requireModelAgent(model: string, agentIds: readonly string[]): string {
  const agentId = resolveModelAgent(model, agentIds);
  if (agentId === undefined) {
    const named = namedAgent(model);
    const agent = named === undefined ? '' : ` (unknown agent: ${named})`;
    throw new OpenAiRequestError(`The model '${model}' does not exist${agent}. Use ${describeAcceptedModels(agentIds)}; GET /v1/models lists them.`, {
      status: 404,
      param: 'model',
      code: 'model_not_found',
    });
  }
  return agentId;
}

/** Resolve the session; a bad session-key header is a 400 naming the header. */
export function resolveRoute(
  ctx: EndpointContext,
  agentId: string,
  user: string | null | undefined,
  kind: EphemeralKind,
): SessionRoute {
  try {
    return resolveSessionRoute({
      headers: ctx.req.headers,
      user: user ?? undefined,
      agentId,
      kind,
      canonicalize: ctx.deps.canonicalize,
    });
  } catch (err) {
    if (err instanceof GatewayError) throw invalidParam('x-pincer-session-key', `Invalid session key: ${err.message}`);
    throw err;
  }
}

/** True when the session already holds messages (then earlier request messages are not replayed). */
export function sessionHasHistory(ctx: EndpointContext, sessionKey: string): boolean {
  return (ctx.deps.assistant.describe(sessionKey)?.messageCount ?? 0) > 0;
}

export interface RunHooks {
  onDelta?: (delta: string) => void;
  /** The client's function tools for this turn. */
  clientTools?: ClientToolRequest;
  /** The body field that carries the turn (`messages` or `input`), named when its tool results are refused. */
  turnParam?: string;
}

/**
 * The session of a turn that brings tool results and no session hint: the
 * one whose run handed those calls to the client (remembered 10 minutes).
 * Undefined when none is known; the turn then fails naming the call.
 */
export function sessionAwaitingResults(ctx: EndpointContext, results: readonly ClientToolResult[]): string | undefined {
  for (const result of results) {
    if (result.callId === undefined) continue;
    const run = ctx.deps.assistant.runAwaitingToolCall(result.callId);
    if (run !== undefined) return run.sessionKey;
  }
  return undefined;
}

/** The turn with the instruction a `required` tool choice adds to the system prompt. */
export function withToolInstruction(turn: TurnInput, clientTools: ClientToolRequest | undefined): TurnInput {
  if (clientTools?.required === undefined) return turn;
  const instruction = requiredToolInstruction(clientTools.required);
  const extraSystemPrompt = turn.extraSystemPrompt === undefined ? instruction : `${turn.extraSystemPrompt}\n\n${instruction}`;
  return { ...turn, extraSystemPrompt };
}

/**
 * With `required` or a pinned function, a reply without a matching call is a
 * failed run (as OpenClaw answers: 502 `api_error`, or `response.failed`).
 */
export function requiredCallMissing(outcome: RunOutcome, clientTools: ClientToolRequest | undefined): RunOutcome | undefined {
  if (outcome.status !== 'ok' || clientTools?.required === undefined) return undefined;
  if (matchingCalls(outcome.clientToolCalls, clientTools.required).length > 0) return undefined;
  return {
    ...outcome,
    status: 'error',
    error: `tool_choice asked for a call to ${clientTools.required.join(' or ')}, but the model answered without one`,
  };
}

/**
 * Submit the turn and tie the run to the client: if the client goes away
 * before the reply is finished, the run is aborted (the agent keeps the
 * partial reply in the session).
 */
export async function startClientRun(
  ctx: EndpointContext,
  sessionKey: string,
  runId: string,
  turn: TurnInput,
  hooks: RunHooks = {},
): Promise<ActiveRun> {
  const { deps, res } = ctx;
  let run: ActiveRun | undefined;
  let clientGone = false;
  res.once('close', () => {
    if (res.writableFinished) return;
    clientGone = true;
    if (run !== undefined) {
      deps.logger.debug('openai-http client went away; aborting run', { runId, sessionKey });
      run.abort();
    }
  });
  try {
    run = await startRun(deps.assistant, {
      sessionKey,
      runId,
      turn,
      timeoutMs: deps.options?.runTimeoutMs,
      clientTools: hooks.clientTools?.tools,
      onDelta: hooks.onDelta,
    });
  } catch (err) {
    throw mapSubmitError(err, deps, hooks.turnParam ?? null);
  }
  if (clientGone) run.abort();
  return run;
}

/** Agent refusals → OpenAI errors; anything unexpected → a generic 500 (logged). */
function mapSubmitError(err: unknown, deps: OpenAiHttpDeps, turnParam: string | null): OpenAiRequestError {
  if (err instanceof GatewayError && err.detailCode === 'TOOL_NAME_CONFLICT') return invalidParam('tools', `Invalid 'tools': ${err.message}.`, 'tool_name_conflict');
  if (err instanceof GatewayError && err.detailCode === 'UNKNOWN_TOOL_CALL') return new OpenAiRequestError(`Invalid '${turnParam}': ${err.message}.`, { param: turnParam, code: 'unknown_tool_call' });
  if (err instanceof GatewayError) return fromGatewayError(err);
  deps.logger.error('openai-http submit failed', { error: err instanceof Error ? err.stack : String(err) });
  return new OpenAiRequestError('Internal server error.', { status: 500, type: 'server_error' });
}

/** A failed run, as a 502 reply. `x-should-retry: false`: a retry would start a second run. */
export function runFailedError(outcome: RunOutcome, type: 'server_error' | 'api_error' = 'server_error'): OpenAiRequestError {
  return new OpenAiRequestError(outcome.error ?? 'The run failed.', {
    status: 502,
    type,
    code: 'run_failed',
    headers: { 'x-should-retry': 'false' },
  });
}

/**
 * Chat Completions usage from agent usage (zeros when the provider reported
 * none), in the shape OpenClaw answers with. `prompt_tokens` counts cached
 * prompt tokens too, as OpenAI's does, and `prompt_tokens_details` appears
 * when there were any; `cost` (USD, as OpenRouter adds it) only when the
 * price is known.
 */
export function chatUsage(usage: Usage | undefined): ChatUsage {
  const cacheRead = usage?.cacheRead ?? 0;
  const prompt = (usage?.input ?? 0) + cacheRead + (usage?.cacheWrite ?? 0);
  const output = usage?.output ?? 0;
  const shaped: ChatUsage = { prompt_tokens: prompt, completion_tokens: output, total_tokens: usage?.totalTokens ?? prompt + output };
  if (cacheRead > 0) shaped.prompt_tokens_details = { cached_tokens: cacheRead };
  if (usage?.cost !== undefined) shaped.cost = usage.cost.total;
  return shaped;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  cost?: number;
}

/** Seconds since the epoch, as OpenAI's `created` fields. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
