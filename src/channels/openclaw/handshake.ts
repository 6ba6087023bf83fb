/**
 * The `connect` request (docs/protocol.md §2): params, protocol negotiation,
 * shared-secret check, optional device signature, server-assigned scopes and
 * the `hello-ok` payload. Pure apart from the limiter: the connection layer
 * sends the result and closes on failure.
 */

import * as v from 'valibot';
import { GatewayError, gatewayUnavailable } from '../../protocol/errors.js';
import {
  CLOSE_POLICY_VIOLATION,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_TRY_AGAIN_LATER,
} from '../../protocol/close-codes.js';
import {
  ConnectParamsSchema,
  MAX_PROTOCOL,
  SUPPORTED_PROTOCOLS,
  negotiateProtocol,
  type ConnectParams,
} from '../../protocol/connect-params.js';
import { formatFirstIssue } from '../../protocol/issue-message.js';
import { expandScopes, grantScopes, type OperatorScope } from '../../protocol/scopes.js';
import { secretsEqual, type AuthSecret, type AuthSecretResolver } from '../../security/secret-compare.js';
import type { AuthRateLimiter } from '../../security/auth-rate-limiter.js';
import { authLimiterKey } from '../../security/client-address.js';
import { DEFAULT_AGENT_ID, MAIN_SESSION_KEY, MAIN_SESSION_NAME } from '../../sessions/session-key.js';
import { verifyDevice } from './device-auth.js';

export const OPERATOR_ROLE = 'operator';

/** `hello-ok.policy` (§2.4). */
export interface ConnectionPolicy {
  maxPayload: number;
  maxBufferedBytes: number;
  tickIntervalMs: number;
}

export interface HandshakeDeps {
  getAuthSecret: AuthSecretResolver;
  isDraining(): boolean;
  limiter: AuthRateLimiter;
  /** `features.methods` and `features.events`, computed once per channel. */
  featureMethods: readonly string[];
  featureEvents: readonly string[];
  policy: ConnectionPolicy;
  version: string;
  /** Epoch ms the gateway started, for `snapshot.uptimeMs`. */
  startedAt: number;
  /** `retryAfterMs` of the refusal while draining. */
  drainRetryAfterMs: number;
}

/** What the connection knows before `connect`. */
export interface HandshakeInput {
  connId: string;
  /** This socket's challenge nonce. */
  nonce: string;
  /** Remote address, IPv4-mapped IPv6 already unwrapped. */
  ip: string;
  origin: string | undefined;
  /** Secret presented at the HTTP upgrade (Authorization / subprotocol), if any. */
  upgradeCredential: string | undefined;
  now: number;
}

export interface HandshakeResult {
  protocol: number;
  /** Granted scopes as reported in hello-ok. */
  grantedScopes: OperatorScope[];
  /** Granted scopes plus implied ones, for method checks. */
  scopes: Set<OperatorScope>;
  client: { id: string; mode: string };
  deviceId: string | undefined;
  hello: Record<string, unknown>;
}

/**
 * Run one `connect`. Returns the hello-ok data, or throws GatewayError whose
 * `closeCode` tells how to close the socket after the error res.
 */
export function performHandshake(rawParams: unknown, input: HandshakeInput, deps: HandshakeDeps): HandshakeResult {
  if (deps.isDraining()) {
    const refusal = gatewayUnavailable('shutdown', deps.drainRetryAfterMs);
    throw new GatewayError(refusal.code, refusal.message, {
      details: refusal.details,
      retryable: true,
      retryAfterMs: refusal.retryAfterMs,
      closeCode: CLOSE_TRY_AGAIN_LATER,
    });
  }

  const parsed = v.safeParse(ConnectParamsSchema, rawParams);
  if (!parsed.success) {
    throw new GatewayError('INVALID_REQUEST', `invalid connect params: ${formatFirstIssue(parsed.issues)}`, {
      closeCode: CLOSE_POLICY_VIOLATION,
    });
  }
  const params = parsed.output;

  const protocol = negotiateProtocol(params.minProtocol, params.maxProtocol);
  if (protocol === undefined) {
    throw new GatewayError('INVALID_REQUEST', 'protocol mismatch', {
      details: {
        code: 'PROTOCOL_MISMATCH',
        clientMinProtocol: params.minProtocol,
        clientMaxProtocol: params.maxProtocol,
        expectedProtocol: MAX_PROTOCOL,
        supportedProtocols: [...SUPPORTED_PROTOCOLS],
      },
      closeCode: CLOSE_PROTOCOL_ERROR,
    });
  }

  const role = params.role ?? OPERATOR_ROLE;
  if (role !== OPERATOR_ROLE) {
    throw new GatewayError('INVALID_REQUEST', `unsupported role: ${role} (only operator is accepted)`, {
      details: { code: 'ROLE_UNSUPPORTED' },
      closeCode: CLOSE_POLICY_VIOLATION,
    });
  }

  const secret = checkSecret(params, input, deps);
  // Devices are checked only once the shared secret holds (CVE-2026-28472).
  const device = verifyDevice(params, input.nonce, input.now);

  const grantedScopes = grantScopes(params.scopes);
  return {
    protocol,
    grantedScopes,
    scopes: expandScopes(grantedScopes),
    client: { id: params.client.id, mode: params.client.mode },
    deviceId: device.status === 'verified' ? device.deviceId : undefined,
    hello: buildHelloOk(protocol, grantedScopes, secret.mode, input, deps),
  };
}

function checkSecret(params: ConnectParams, input: HandshakeInput, deps: HandshakeDeps): AuthSecret {
  const key = authLimiterKey(input.ip, input.origin);
  const decision = deps.limiter.check(key, input.now);
  if (!decision.allowed) {
    throw new GatewayError('INVALID_REQUEST', 'unauthorized: too many failed authentication attempts (retry later)', {
      details: { code: 'AUTH_RATE_LIMITED', authReason: 'rate_limited', recommendedNextStep: 'wait_then_retry' },
      retryable: true,
      retryAfterMs: decision.retryAfterMs,
      closeCode: CLOSE_POLICY_VIOLATION,
    });
  }

  // Resolved per attempt so that a rotated secret applies to the next connect.
  const secret = deps.getAuthSecret();
  if (secret === undefined || secret.secret === '') {
    throw authError('unauthorized: gateway auth is not configured', 'AUTH_NOT_CONFIGURED', 'not_configured');
  }
  const fromParams = secret.mode === 'token' ? params.auth?.token : params.auth?.password;
  const presented = fromParams ?? input.upgradeCredential;
  if (presented === undefined || presented === null || presented === '') {
    throw secret.mode === 'token'
      ? authError("unauthorized: gateway token missing (provide this gateway's auth.token)", 'AUTH_TOKEN_MISSING', 'token_missing')
      : authError("unauthorized: gateway password missing (provide this gateway's auth.password)", 'AUTH_PASSWORD_MISSING', 'password_missing');
  }
  if (!secretsEqual(presented, secret.secret)) {
    deps.limiter.recordFailure(key, input.now);
    throw secret.mode === 'token'
      ? authError(
          "unauthorized: gateway token mismatch (use this gateway's auth.token, or the token `pincer token` prints)",
          'AUTH_TOKEN_MISMATCH',
          'token_mismatch',
        )
      : authError("unauthorized: gateway password mismatch (use this gateway's auth.password)", 'AUTH_PASSWORD_MISMATCH', 'password_mismatch');
  }
  deps.limiter.recordSuccess(key);
  return secret;
}

/** Pincer issues no device tokens, so a retry with one can never help (§1.2). */
function authError(message: string, code: string, authReason: string): GatewayError {
  return new GatewayError('INVALID_REQUEST', message, {
    details: { code, authReason, canRetryWithDeviceToken: false, recommendedNextStep: 'update_auth_credentials' },
    closeCode: CLOSE_POLICY_VIOLATION,
  });
}

function buildHelloOk(
  protocol: number,
  grantedScopes: OperatorScope[],
  authMode: AuthSecret['mode'],
  input: HandshakeInput,
  deps: HandshakeDeps,
): Record<string, unknown> {
  return {
    type: 'hello-ok',
    protocol,
    server: { version: deps.version, connId: input.connId },
    features: { methods: deps.featureMethods, events: deps.featureEvents },
    snapshot: {
      presence: [],
      health: { ok: true, ts: input.now },
      stateVersion: { presence: 0, health: 0 },
      uptimeMs: Math.max(0, input.now - deps.startedAt),
      sessionDefaults: {
        defaultAgentId: DEFAULT_AGENT_ID,
        mainKey: MAIN_SESSION_NAME,
        mainSessionKey: MAIN_SESSION_KEY,
        scope: 'per-sender',
      },
      authMode,
    },
    // Never a deviceToken: openclaw-node would replace the configured token with it (§2.4).
    auth: { method: authMode, role: OPERATOR_ROLE, scopes: grantedScopes },
    policy: { ...deps.policy },
  };
}
