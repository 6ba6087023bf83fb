/**
 * The `connect` request (docs/protocol.md §2): params, protocol negotiation,
 * shared-secret check, optional device signature, server-assigned scopes and
 * the `hello-ok` payload. Pure apart from the limiter: the connection layer
 * sends the result and closes on failure.
 */

import * as v from 'valibot';
import { GatewayError, detailError, gatewayUnavailable, type DetailCode } from '../../protocol/errors.js';
import {
  CLOSE_POLICY_VIOLATION,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_TRY_AGAIN_LATER,
} from './close-codes.js';
import {
  ConnectParamsSchema,
  MAX_PROTOCOL,
  SUPPORTED_PROTOCOLS,
  negotiateProtocol,
  type ConnectParams,
} from '../../protocol/connect-params.js';
import { formatFirstIssue } from '../../protocol/issue-message.js';
import { expandScopes, grantScopes, sharedExpandedScopes, type OperatorScope } from '../../protocol/scopes.js';
import { secretsEqual, type AuthSecret, type AuthSecretResolver } from '../../security/secret-compare.js';
import type { AuthRateLimiter } from '../../security/auth-rate-limiter.js';
import { authLimiterKey } from '../../security/client-address.js';
import { DEFAULT_AGENT_ID, MAIN_SESSION_KEY, MAIN_SESSION_NAME } from '../../sessions/session-key.js';
import type { DeviceTokenStore } from '../../security/device-token-store.js';
import { verifyDevice, type DeviceOutcome } from './device-auth.js';

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
  /** Where device tokens live; without it none are issued or accepted. */
  deviceTokens?: DeviceTokenStore;
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
  scopes: ReadonlySet<OperatorScope>;
  client: { id: string; mode: string };
  deviceId: string | undefined;
  /** How the client proved itself: the shared secret, or a device token (§2.6). */
  authMethod: 'token' | 'password' | 'device-token';
  hello: Record<string, unknown>;
}

/** The credential that held, and the device it came with. */
interface Credential {
  secret: AuthSecret;
  method: HandshakeResult['authMethod'];
  device: DeviceOutcome;
  /** Set for device-token auth: the grant the token carries. */
  tokenScopes?: readonly string[];
}

/**
 * Run one `connect`. Returns the hello-ok data, or throws GatewayError whose
 * `closeCode` tells how to close the socket after the error res.
 */
export function performHandshake(rawParams: unknown, input: HandshakeInput, deps: HandshakeDeps): HandshakeResult {
  if (deps.isDraining()) {
    const refusal = gatewayUnavailable('shutdown');
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
    throw detailError('PROTOCOL_MISMATCH', 'protocol mismatch', {
      extra: {
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
    throw detailError('ROLE_UNSUPPORTED', `unsupported role: ${role} (only operator is accepted)`, {
      closeCode: CLOSE_POLICY_VIOLATION,
    });
  }

  const credential = checkCredential(params, input, deps);
  const { device } = credential;

  const requested = grantScopes(params.scopes);
  // A device token reconnects with at most the grant it was issued for (§2.6).
  const ceiling = credential.tokenScopes === undefined ? undefined : expandScopes(grantScopes(credential.tokenScopes));
  const grantedScopes = ceiling === undefined ? requested : requested.filter((scope) => ceiling.has(scope));
  const deviceId = device.status === 'verified' ? device.deviceId : undefined;
  const deviceToken = deviceId === undefined ? undefined : deviceTokenFor(deviceId, params, credential, grantedScopes, input, deps);
  return {
    protocol,
    grantedScopes,
    scopes: sharedExpandedScopes(grantedScopes),
    client: { id: params.client.id, mode: params.client.mode },
    deviceId,
    authMethod: credential.method,
    hello: buildHelloOk(protocol, grantedScopes, credential, deviceToken, input, deps),
  };
}

/**
 * The token hello-ok hands a verified device: the one it reconnected with, or
 * a fresh one when it proved the shared secret (replacing any earlier token).
 */
function deviceTokenFor(
  deviceId: string,
  params: ConnectParams,
  credential: Credential,
  grantedScopes: OperatorScope[],
  input: HandshakeInput,
  deps: HandshakeDeps,
): { token: string; issuedAtMs: number } | undefined {
  const store = deps.deviceTokens;
  if (store === undefined) return undefined;
  if (credential.method === 'device-token') {
    const token = params.auth?.deviceToken ?? params.auth?.token;
    return token ? { token, issuedAtMs: input.now } : undefined;
  }
  return store.issue({
    deviceId,
    role: OPERATOR_ROLE,
    clientId: params.client.id,
    scopes: grantedScopes,
    secret: credential.secret.secret,
    now: input.now,
  });
}

/**
 * The shared secret, or else a device token presented by the device it was
 * issued to. Throws the auth error (and counts the failure) when neither holds.
 */
function checkCredential(params: ConnectParams, input: HandshakeInput, deps: HandshakeDeps): Credential {
  const key = authLimiterKey(input.ip, input.origin);
  const secret = checkLimiterAndSecret(key, input, deps);
  const fromParams = secret.mode === 'token' ? params.auth?.token : params.auth?.password;
  const presented = fromParams ?? input.upgradeCredential ?? undefined;
  if (presented && secretsEqual(presented, secret.secret)) {
    deps.limiter.recordSuccess(key);
    // Devices are checked only once the shared secret holds (CVE-2026-28472).
    return { secret, method: secret.mode, device: verifyDevice(params, input.nonce, input.now) };
  }

  // openclaw-node sends its stored device token as auth.token; the Control UI as auth.deviceToken.
  const candidate = params.auth?.deviceToken || params.auth?.token || undefined;
  const deviceId = params.device?.id;
  if (candidate !== undefined && deviceId !== undefined && deps.deviceTokens?.has(deviceId) === true) {
    // The store is consulted only for a device that proves its key on this very challenge.
    const device = verifyDevice(params, input.nonce, input.now);
    const record =
      device.status === 'verified'
        ? deps.deviceTokens.verify({ deviceId, role: OPERATOR_ROLE, token: candidate, secret: secret.secret, now: input.now })
        : undefined;
    if (record !== undefined) {
      deps.limiter.recordSuccess(key);
      return { secret, method: 'device-token', device, tokenScopes: record.scopes };
    }
  }

  if (!presented && !params.auth?.deviceToken) {
    throw secret.mode === 'token'
      ? authError("unauthorized: gateway token missing (provide this gateway's auth.token)", 'AUTH_TOKEN_MISSING', 'token_missing')
      : authError("unauthorized: gateway password missing (provide this gateway's auth.password)", 'AUTH_PASSWORD_MISSING', 'password_missing');
  }
  deps.limiter.recordFailure(key, input.now);
  if (!presented) {
    throw authError(
      'unauthorized: device token mismatch (connect once with the gateway secret to get a new one)',
      'AUTH_DEVICE_TOKEN_MISMATCH',
      'device_token_mismatch',
    );
  }
  throw secret.mode === 'token'
    ? authError(
        "unauthorized: gateway token mismatch (use this gateway's auth.token, or the token `pincer token` prints)",
        'AUTH_TOKEN_MISMATCH',
        'token_mismatch',
      )
    : authError("unauthorized: gateway password mismatch (use this gateway's auth.password)", 'AUTH_PASSWORD_MISMATCH', 'password_mismatch');
}

function checkLimiterAndSecret(key: string, input: HandshakeInput, deps: HandshakeDeps): AuthSecret {
  const decision = deps.limiter.check(key, input.now);
  if (!decision.allowed) {
    throw detailError('AUTH_RATE_LIMITED', 'unauthorized: too many failed authentication attempts (retry later)', {
      extra: { authReason: 'rate_limited', recommendedNextStep: 'wait_then_retry' },
      retryAfterMs: decision.retryAfterMs,
      closeCode: CLOSE_POLICY_VIOLATION,
    });
  }
  // Resolved per attempt so that a rotated secret applies to the next connect.
  const secret = deps.getAuthSecret();
  if (secret === undefined || secret.secret === '') {
    throw authError('unauthorized: gateway auth is not configured', 'AUTH_NOT_CONFIGURED', 'not_configured');
  }
  return secret;
}

/** A device token is tried in the same attempt, so a retry with one can never help (§1.2). */
function authError(message: string, code: DetailCode, authReason: string): GatewayError {
  return detailError(code, message, {
    extra: { authReason, canRetryWithDeviceToken: false, recommendedNextStep: 'update_auth_credentials' },
    closeCode: CLOSE_POLICY_VIOLATION,
  });
}

/** One `features` object per channel, shared by every hello-ok (hello-frame.ts serialises it once). */
const sharedFeatures = new WeakMap<HandshakeDeps, { methods: readonly string[]; events: readonly string[] }>();

function featuresOf(deps: HandshakeDeps): { methods: readonly string[]; events: readonly string[] } {
  let features = sharedFeatures.get(deps);
  if (features === undefined) {
    features = { methods: deps.featureMethods, events: deps.featureEvents };
    sharedFeatures.set(deps, features);
  }
  return features;
}

function buildHelloOk(
  protocol: number,
  grantedScopes: OperatorScope[],
  credential: Credential,
  deviceToken: { token: string; issuedAtMs: number } | undefined,
  input: HandshakeInput,
  deps: HandshakeDeps,
): Record<string, unknown> {
  const auth: Record<string, unknown> = { method: credential.method, role: OPERATOR_ROLE, scopes: grantedScopes };
  if (deviceToken !== undefined) {
    auth.deviceToken = deviceToken.token;
    auth.issuedAtMs = deviceToken.issuedAtMs;
  }
  return {
    type: 'hello-ok',
    protocol,
    server: { version: deps.version, connId: input.connId },
    features: featuresOf(deps),
    snapshot: {
      suspension: { phase: 'accepting' },
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
      authMode: credential.secret.mode,
    },
    auth,
    policy: { ...deps.policy },
  };
}
