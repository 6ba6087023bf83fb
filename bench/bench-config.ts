/** Repetition counts of every scenario: the full run (issue 9) and the --quick smoke run. */

export interface BenchCounts {
  /** Spawn → /ready samples per target. */
  readyRuns: number;
  /** Idle RSS samples per target, and how long after spawn each is read, ms. */
  idleRssRuns: number;
  idleAfterMs: number;
  /** How long a gateway idles after its last chat turn before RSS is read again, ms (its reclaimer waits 10 s of quiet). */
  quietAfterMs: number;
  /** open → hello-ok, clients that send connect at once. */
  handshakes: number;
  /** challenge → hello-ok, clients that wait for the challenge. */
  waitingHandshakes: number;
  /** Sequential req/res on one connection. */
  roundTrips: number;
  /** Pipelined rounds (fresh connection each) and requests per round, `inFlight` outstanding. */
  pipelinedRounds: number;
  pipelinedRequests: number;
  inFlight: number;
  /** Fan-out listeners, runs (in as many sessions) per burst and rounds per target. */
  fanOutClients: number;
  fanOutRuns: number;
  fanOutRounds: number;
  /** First-delta samples (after warm-up runs). */
  firstDeltaRuns: number;
  /** Idle authenticated connections held at once. */
  idleConnections: number;
  /** Sessions sent chat.send at once, and rounds of that. */
  concurrentSessions: number;
  concurrentRounds: number;
  /** Chat turns for the memory slope, spread over this many sessions. */
  chatTurns: number;
  chatSessions: number;
  /** Streamed 64 KB runs watched for bytes per watcher. */
  streamCostRounds: number;
  /** 5 KiB chunks of the large reply (2,000: the 10 MB of issue 13 item 6). */
  largeReplyChunks: number;
  /** Fresh gateways the large reply is measured on (the median is reported: GC timing moves one run's peak). */
  largeReplyRounds: number;
  /** Starts per feature for its ready time and idle RSS (nothing configured, cron, MCP). */
  featureRuns: number;
  /** Start-up with stored state: sessions written straight to disk, messages in each, and how many a crash cut. */
  recoverySessions: number;
  recoveryMessages: number;
  recoveryCutSessions: number;
  /** --peer: starts of each gateway (ready and idle RSS samples), and chat turns on the last start. */
  peerRuns: number;
  peerTurns: number;
}

export const FULL_COUNTS: BenchCounts = {
  readyRuns: 10,
  idleRssRuns: 3,
  idleAfterMs: 5_000,
  quietAfterMs: 15_000,
  handshakes: 1_000,
  waitingHandshakes: 200,
  roundTrips: 10_000,
  pipelinedRounds: 5,
  pipelinedRequests: 4_000,
  inFlight: 100,
  fanOutClients: 100,
  fanOutRuns: 50,
  fanOutRounds: 5,
  firstDeltaRuns: 50,
  idleConnections: 1_000,
  concurrentSessions: 100,
  concurrentRounds: 5,
  chatTurns: 1_000,
  chatSessions: 20,
  streamCostRounds: 5,
  largeReplyChunks: 2000,
  largeReplyRounds: 3,
  featureRuns: 3,
  recoverySessions: 1_000,
  recoveryMessages: 1_000,
  recoveryCutSessions: 10,
  peerRuns: 3,
  peerTurns: 100,
};

export const QUICK_COUNTS: BenchCounts = {
  readyRuns: 2,
  idleRssRuns: 1,
  idleAfterMs: 1_000,
  quietAfterMs: 1_000,
  handshakes: 40,
  waitingHandshakes: 8,
  roundTrips: 300,
  pipelinedRounds: 1,
  pipelinedRequests: 300,
  inFlight: 20,
  fanOutClients: 5,
  fanOutRuns: 4,
  fanOutRounds: 1,
  firstDeltaRuns: 3,
  // Enough that RSS growth is whole pages above noise: 30 sockets sometimes measured 0 on the floor.
  idleConnections: 200,
  concurrentSessions: 5,
  concurrentRounds: 1,
  chatTurns: 40,
  chatSessions: 4,
  streamCostRounds: 1,
  largeReplyChunks: 200,
  largeReplyRounds: 1,
  featureRuns: 1,
  recoverySessions: 40,
  recoveryMessages: 100,
  recoveryCutSessions: 4,
  peerRuns: 1,
  peerTurns: 10,
};

/** Authenticated handshakes in flight at once when opening many sockets (Pincer allows 16 pending per IP). */
export const OPEN_CONCURRENCY = 8;
/** Pause after opening or closing many sockets before memory is read, ms. */
export const SETTLE_MS = 1_000;
