/**
 * `agent` and `agent.wait` (docs/protocol.md §3.4, §6.2). `agent` answers twice on
 * the same request id: `accepted` at once, then the run's final once it ends
 * (openclaw-node's chat() and the CLI's --expect-final wait for the second).
 */

import * as v from 'valibot';
import type { ChatTurn, RunRecord } from '../../../agent/types.js';
import type { Assistant } from '../../../assistant/types.js';
import { GatewayError, detailError } from '../../../protocol/errors.js';
import { MAX_SESSION_KEY_CHARS, parseSessionKey } from '../../../sessions/session-key.js';
import { sessionKeyForAgent } from '../agent-session-key.js';
import type { MethodContext, MethodTable } from '../method-types.js';
import { MAX_IDEMPOTENCY_KEY_CHARS } from '../../../agent/idempotency.js';
import { AttachmentsSchema, toImages, toRunTimeoutMs, toThinkingLevel } from './chat.js';

/** agent.wait default when the client gives no timeoutMs (OpenClaw's default), ms. */
export const DEFAULT_AGENT_WAIT_MS = 30_000;
/** Longest agent.wait, ms. */
export const MAX_AGENT_WAIT_MS = 600_000;
/** How long `agent` waits for its run before the second res reports a timeout, ms. */
export const AGENT_FINAL_WAIT_MS = 3_600_000;
/** Extra time past a client's run timeout before `agent` gives up waiting, ms. */
export const AGENT_FINAL_GRACE_MS = 30_000;
/** Longest extra system prompt, characters. */
export const MAX_EXTRA_SYSTEM_PROMPT_CHARS = 100_000;

export interface AgentMethodDeps {
  assistant: Assistant;
  /** Raw client key → canonical key; throws GatewayError on an invalid key. */
  canonicalize: (raw: string) => string;
  /** A configured agent by id; throws UNKNOWN_AGENT naming it. Default: only `main`. */
  requireAgent?: (agentId: string) => { id: string };
  /** Clock, epoch ms. */
  now?: () => number;
}

const AgentParams = v.object({
  message: v.pipe(v.string(), v.minLength(1)),
  sessionKey: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_SESSION_KEY_CHARS))),
  agentId: v.optional(v.string()),
  idempotencyKey: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_IDEMPOTENCY_KEY_CHARS))),
  thinking: v.optional(v.unknown()),
  deliver: v.optional(v.unknown()),
  attachments: v.optional(AttachmentsSchema),
  /** Seconds, as in OpenClaw. */
  timeout: v.optional(v.number()),
  label: v.optional(v.string()),
  extraSystemPrompt: v.optional(v.pipe(v.string(), v.maxLength(MAX_EXTRA_SYSTEM_PROMPT_CHARS))),
  channel: v.optional(v.unknown()),
  provider: v.optional(v.unknown()),
  model: v.optional(v.unknown()),
});
const WaitParams = v.object({
  runId: v.pipe(v.string(), v.minLength(1)),
  timeoutMs: v.optional(v.pipe(v.number(), v.minValue(0))),
});

/** Build `agent` and `agent.wait`. */
export function createAgentMethods(deps: AgentMethodDeps): MethodTable {
  const { assistant, canonicalize } = deps;
  const requireAgent = deps.requireAgent ?? onlyMainAgent;
  const now = deps.now ?? Date.now;

  function finalOf(record: RunRecord): Record<string, unknown> {
    const sessionId = assistant.describe(record.sessionKey)?.sessionId ?? record.sessionId;
    const text = record.text ?? '';
    const aborted = record.status === 'aborted';
    return {
      runId: record.runId,
      status: record.status,
      summary: aborted ? 'aborted' : 'completed',
      result: {
        payloads: aborted && text === '' ? [] : [{ text, mediaUrl: null }],
        meta: {
          durationMs: Math.max(0, (record.endedAt ?? now()) - record.startedAt),
          aborted,
          stopReason: record.stopReason ?? (aborted ? 'rpc' : 'stop'),
          agentMeta: {
            sessionId: sessionId ?? null,
            provider: record.provider ?? null,
            model: record.model ?? null,
            usage: shapeRunUsage(record),
            // Paperclip reads this; null says the price is unknown (never 0 for unknown).
            costUsd: record.usage?.cost?.total ?? null,
          },
        },
      },
    };
  }

  /** After the run ends, the second res: the final, or the run's error. */
  async function sendFinal(runId: string, waitMs: number, ctx: MethodContext): Promise<void> {
    let record: RunRecord | undefined;
    let failure: unknown;
    try {
      record = await assistant.wait(runId, waitMs);
    } catch (error) {
      failure = error;
    }
    // Let the run's terminal chat/agent events reach the socket first (observed order, §4.2).
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (ctx.closed) return;
    if (failure !== undefined || record === undefined) {
      ctx.sendExtraError(new GatewayError('UNAVAILABLE', `agent run ${runId} was lost`));
    } else if (record.status === 'running') {
      ctx.sendExtraError(new GatewayError('AGENT_TIMEOUT', `agent run ${runId} did not finish in time`));
    } else if (record.status === 'error') {
      ctx.sendExtraError(runError(record));
    } else {
      ctx.sendExtraResponse(finalOf(record));
    }
  }

  return {
    agent: {
      params: AgentParams,
      scope: 'operator.write',
      async handler(params, ctx) {
        const sessionKey = sessionKeyForAgent({ canonicalize, requireAgent }, params.sessionKey, params.agentId);
        const turn: ChatTurn = { sessionKey, text: params.message };
        const images = toImages(params.attachments, 'agent');
        if (images.length > 0) turn.images = images;
        if (params.idempotencyKey !== undefined) turn.idempotencyKey = params.idempotencyKey;
        const thinking = toThinkingLevel(params.thinking);
        if (thinking !== undefined) turn.thinking = thinking;
        const timeoutMs = toRunTimeoutMs(params.timeout === undefined ? undefined : params.timeout * 1000);
        if (timeoutMs !== undefined) turn.timeoutMs = timeoutMs;
        if (params.extraSystemPrompt !== undefined && params.extraSystemPrompt !== '') {
          turn.extraSystemPrompt = params.extraSystemPrompt;
        }
        ctx.watchSession(sessionKey);
        const submitted = await assistant.send(turn);
        const { runId } = submitted;
        if (submitted.status === 'started' || submitted.status === 'in_flight') {
          void sendFinal(runId, timeoutMs === undefined ? AGENT_FINAL_WAIT_MS : timeoutMs + AGENT_FINAL_GRACE_MS, ctx);
          return { runId, sessionKey, agentId: parseSessionKey(sessionKey).agentId, status: 'accepted', acceptedAt: now() };
        }
        // A duplicate of a finished run: one res with the recorded outcome (§6.2).
        const record = assistant.run(runId);
        if (record === undefined) return { runId, status: submitted.status };
        if (record.status === 'error') throw runError(record);
        return finalOf(record);
      },
    },

    'agent.wait': {
      params: WaitParams,
      scope: 'operator.read',
      async handler(params) {
        const timeoutMs = Math.min(params.timeoutMs ?? DEFAULT_AGENT_WAIT_MS, MAX_AGENT_WAIT_MS);
        const record = await assistant.wait(params.runId, timeoutMs);
        if (record === undefined) {
          throw detailError('RUN_NOT_FOUND', `unknown run: ${params.runId}`);
        }
        if (record.status === 'running') return { runId: record.runId, status: 'timeout' };
        const result: Record<string, unknown> = {
          runId: record.runId,
          status: record.status,
          startedAt: record.startedAt,
          endedAt: record.endedAt,
          stopReason: record.stopReason,
        };
        if (record.status === 'error') result.error = record.error ?? 'agent run failed';
        else result.terminalReply = { disposition: 'visible', text: record.text ?? '' };
        // Which model answered and what it used; Paperclip reads result.meta.agentMeta.
        result.provider = record.provider ?? null;
        result.model = record.model ?? null;
        result.usage = shapeRunUsage(record);
        result.result = finalOf(record).result;
        return result;
      },
    },
  };
}

/** A run's token totals as OpenClaw's agentMeta.usage, cache counters included; `cost` (USD) only when known. */
function shapeRunUsage(record: RunRecord): Record<string, unknown> {
  const usage = record.usage;
  const shaped: Record<string, unknown> = {
    input: usage?.input ?? 0,
    output: usage?.output ?? 0,
    cacheRead: usage?.cacheRead ?? 0,
    cacheWrite: usage?.cacheWrite ?? 0,
    total: usage?.totalTokens ?? 0,
  };
  if (usage?.cost !== undefined) shaped.cost = { ...usage.cost };
  return shaped;
}

/** A failed run as the error of `agent`'s second res (§6.2). */
function runError(record: RunRecord): GatewayError {
  const message = record.error ?? 'agent run failed';
  const timedOut = record.stopReason === 'timeout' || /timed? ?out|timeout/i.test(message);
  return new GatewayError(timedOut ? 'AGENT_TIMEOUT' : 'UNAVAILABLE', message, { details: { runId: record.runId } });
}

/** Without a roster: `main` is the one agent. */
function onlyMainAgent(agentId: string): { id: string } {
  if (agentId.trim().toLowerCase() !== 'main') throw detailError('UNKNOWN_AGENT', `unknown agent: ${agentId}`);
  return { id: 'main' };
}
