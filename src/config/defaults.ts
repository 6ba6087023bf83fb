/**
 * Every default of the config in one place. Units are in the key names
 * (…Ms = milliseconds, …Bytes = bytes). Safe by default: loopback only, and
 * a generated token when no secret is configured.
 */

/** Name of the state directory under the home directory (override: PINCER_STATE_DIR, --state-dir). */
export const DEFAULT_STATE_DIR_NAME = '.pincer';
/** The config file inside the state directory (override: --config). */
export const CONFIG_FILE_NAME = 'config.json';
/** The generated gateway token inside the state directory. */
export const TOKEN_FILE_NAME = 'token';
/** Hashed device tokens issued to clients with a device identity, inside the state directory. */
export const DEVICE_TOKENS_FILE_NAME = 'device-tokens.json';
/** The agent's workspace inside the state directory (override: agent.workspaceDir). */
export const WORKSPACE_DIR_NAME = 'workspace';
/** OpenClaw's gateway port, which WebClaw and the OpenClaw CLI assume. */
export const DEFAULT_PORT = 18789;

export const DEFAULTS = {
  gateway: {
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    websocket: true,
    /** Extra browser origins allowed to open the WebSocket, besides loopback ones. */
    allowedOrigins: [] as string[],
    /** Extra Host header names accepted on upgrades, besides the bind address and localhost. */
    allowedHosts: [] as string[],
    handshakeTimeoutMs: 10_000,
    maxPayloadBytes: 4 * 1024 * 1024,
    maxBufferedBytes: 8 * 1024 * 1024,
    tickIntervalMs: 30_000,
    drainTimeoutMs: 10_000,
    /** A connection above this rate for 5 s in a row is closed as a flood (1008). */
    maxRequestsPerSecond: 1_000,
    /** Proxies whose X-Forwarded-For is believed; none, so the socket's peer is the client. */
    trustedProxies: [] as string[],
    /** Open connections, HTTP and WebSocket together; more are closed at once. */
    maxConnections: 4_096,
  },
  provider: {
    timeoutMs: 120_000,
    maxRetries: 2,
  },
  agent: {
    maxConcurrentRuns: 8,
    maxMessageChars: 100_000,
    historyLimit: 200,
    /** Heartbeats are off unless agent.heartbeat.every is set. */
    heartbeat: { everyMs: 0 },
  },
  cron: {
    enabled: true,
    skipMissedJobs: false,
  },
  openaiHttp: {
    enabled: true,
  },
  tools: {
    /** Model calls per run; a model still calling tools after that ends the run with an error. */
    maxIterations: 20,
    readFile: { enabled: true },
    writeFile: { enabled: true },
    editFile: { enabled: true },
    listDir: { enabled: true },
    cron: { enabled: true },
    /**
     * Off unless enabled. sandbox: bwrap when it works, else process-group containment;
     * network: sandboxed commands get none; env: extra variable names passed on.
     */
    exec: { enabled: false, timeoutMs: 30_000, maxOutputBytes: 64 * 1024, sandbox: 'auto', network: false, env: [] as string[] },
    webFetch: { enabled: true, allowPrivateNetwork: false, timeoutMs: 15_000, maxBytes: 512 * 1024 },
  },
  logLevel: 'info',
  logFormat: 'auto',
} as const;
