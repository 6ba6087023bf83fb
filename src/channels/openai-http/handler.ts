/**
 * The OpenAI-compatible HTTP channel (docs/protocol.md §7.1): routes `/v1/*`,
 * checks the bearer secret (with the §8.4 failed-auth limiter when given),
 * reads the bounded JSON body and hands it to the endpoint.
 *
 * Order for every `/v1` request: gate (400 two Hosts, 421 foreign Host,
 * 403 foreign Origin; before any credential is read) → route (404) → CORS
 * preflight (204) → method (405) → auth (429 while locked out, 401) → body
 * (413, 400) → endpoint.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError } from '../../protocol/errors.js';
import { createRequestGate, describeGateRefusal, type RequestGate } from '../../security/request-gate.js';
import { secretsEqual } from '../../security/secret-compare.js';
import { handleChatCompletions } from './chat-completions.js';
import { answerPreflight, applyCorsHeaders, isPreflight } from './cors.js';
import type { EndpointContext } from './endpoint-support.js';
import { readJsonBody, sendJson, sendOpenAiError, sendUnauthorized } from './http-io.js';
import { listModels } from './models.js';
import { isOpenAiHttpPath, requestPath } from './paths.js';
import { OpenAiRequestError, fromGatewayError } from './request-error.js';
import { handleResponses } from './responses.js';
import { DEFAULT_MAX_BODY_BYTES, type OpenAiHttpDeps, type OpenAiHttpHandler } from './types.js';

type Route =
  | { kind: 'models' }
  | { kind: 'model'; id: string }
  | { kind: 'chat' }
  | { kind: 'responses' };

const ROUTE_METHODS: Record<Route['kind'], string> = {
  models: 'GET',
  model: 'GET',
  chat: 'POST',
  responses: 'POST',
};

/**
 * Build the `/v1` request handler. It returns false (and touches nothing)
 * for any other path, so the gateway can fall through to its 404.
 * Throws at once on bad options (no agents, non-positive maxBodyBytes).
 */
export function createOpenAiHttpHandler(deps: OpenAiHttpDeps): OpenAiHttpHandler {
  const maxBodyBytes = deps.options?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new Error(`openai-http: options.maxBodyBytes must be a positive integer (got ${String(maxBodyBytes)})`);
  }
  if (deps.agentIds().length === 0) throw new Error('openai-http: agentIds must name at least one agent');
  // Without a shared gate: the safe default (loopback Hosts and Origins on the socket's own port).
  const gate = deps.gate ?? createRequestGate({ allowedOrigins: [], allowedHosts: [] });

  return (req, res) => {
    if (!isOpenAiHttpPath(req.url)) return false;
    const path = requestPath(req.url);
    handleV1(deps, gate, maxBodyBytes, req, res, path).catch((err: unknown) => {
      replyWithError(deps, res, err);
    });
    return true;
  };
}

async function handleV1(
  deps: OpenAiHttpDeps,
  gate: RequestGate,
  maxBodyBytes: number,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const verdict = gate.check(req);
  if (!verdict.ok) {
    deps.logger.debug('request refused by the gate', { status: verdict.status, reason: verdict.reason, ip: verdict.clientIp });
    const refusal = describeGateRefusal(verdict.status);
    throw new OpenAiRequestError(refusal.message, {
      status: verdict.status,
      type: verdict.status === 403 ? 'permission_error' : 'invalid_request_error',
      code: refusal.code,
      headers: { connection: 'close' },
    });
  }
  applyCorsHeaders(res, verdict.origin);
  const method = req.method ?? 'GET';
  const route = matchRoute(path);
  if (route === undefined) {
    throw new OpenAiRequestError(`Invalid URL (${method} ${path})`, { status: 404, code: 'unknown_url' });
  }
  if (isPreflight(req, verdict.origin)) {
    answerPreflight(req, res);
    return;
  }
  const allowed = ROUTE_METHODS[route.kind];
  if (method !== allowed) {
    throw new OpenAiRequestError(`Method ${method} is not allowed on ${path}; use ${allowed}.`, {
      status: 405,
      code: 'method_not_allowed',
      headers: { allow: allowed },
    });
  }
  if (!authenticate(deps, req, res, verdict.limiterKey)) return;

  if (route.kind === 'models') {
    sendJson(res, 200, { object: 'list', data: listModels(deps.agentIds()) });
    return;
  }
  if (route.kind === 'model') {
    const entry = listModels(deps.agentIds()).find((model) => model.id === route.id);
    if (entry === undefined) {
      throw new OpenAiRequestError(`The model '${route.id}' does not exist.`, {
        status: 404,
        param: 'model',
        code: 'model_not_found',
      });
    }
    sendJson(res, 200, entry);
    return;
  }

  const body = await readJsonBody(req, maxBodyBytes);
  if (!body.ok) {
    throw new OpenAiRequestError(body.message, {
      status: body.status,
      code: body.status === 413 ? 'request_too_large' : 'invalid_json',
      headers: body.status === 413 ? { connection: 'close' } : undefined,
    });
  }
  const ctx: EndpointContext = { deps, req, res, body: body.value };
  if (route.kind === 'chat') await handleChatCompletions(ctx);
  else await handleResponses(ctx);
}

/** Path without the query string and without one trailing slash. */
function matchRoute(path: string): Route | undefined {
  if (path === '/v1/models') return { kind: 'models' };
  if (path === '/v1/chat/completions') return { kind: 'chat' };
  if (path === '/v1/responses') return { kind: 'responses' };
  if (path.startsWith('/v1/models/')) {
    // The official client percent-encodes ids (`openclaw%2Fdefault`); raw slashes work too.
    try {
      return { kind: 'model', id: decodeURIComponent(path.slice('/v1/models/'.length)) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Check `Authorization: Bearer <secret>` in constant time. Writes the 401/429
 * itself and returns false when the request must stop here. Only a wrong
 * bearer counts as a failure; a missing one does not (docs/protocol.md §8.4).
 */
function authenticate(deps: OpenAiHttpDeps, req: IncomingMessage, res: ServerResponse, key: string): boolean {
  const limiter = deps.rateLimiter;
  if (limiter !== undefined) {
    const verdict = limiter.check(key);
    if (!verdict.allowed) {
      const retryAfterMs = verdict.retryAfterMs;
      sendOpenAiError(res, {
        status: 429,
        message: 'Too many failed authentication attempts. Retry later.',
        type: 'rate_limit_error',
        code: 'auth_rate_limited',
        headers: {
          'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
          // The lockout outlasts any client retry budget; retrying only extends the noise.
          'x-should-retry': 'false',
        },
      });
      return false;
    }
  }
  const presented = bearerToken(req.headers.authorization);
  const expected = deps.getAuthSecret();
  if (expected !== undefined && secretsEqual(presented, expected.secret)) {
    limiter?.recordSuccess(key);
    return true;
  }
  if (presented !== undefined && expected !== undefined) limiter?.recordFailure(key);
  sendUnauthorized(res);
  return false;
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(.+)$/i.exec(header.trim());
  return match === null ? undefined : match[1].trim();
}

/** The one catch: known refusals become OpenAI errors; anything else is logged and answered 500 without internals. */
function replyWithError(deps: OpenAiHttpDeps, res: ServerResponse, err: unknown): void {
  let error: OpenAiRequestError;
  if (err instanceof OpenAiRequestError) {
    error = err;
  } else if (err instanceof GatewayError) {
    error = fromGatewayError(err);
  } else {
    deps.logger.error('openai-http request failed', { error: err instanceof Error ? err.stack : String(err) });
    error = new OpenAiRequestError('Internal server error.', { status: 500, type: 'server_error' });
  }
  if (res.headersSent) {
    // Mid-stream: nothing sensible can be appended to a half-written reply.
    res.destroy();
    return;
  }
  sendOpenAiError(res, {
    status: error.status,
    message: error.message,
    type: error.type,
    param: error.param,
    code: error.code,
    headers: error.headers,
  });
}
