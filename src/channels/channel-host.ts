/**
 * What main.ts hands every channel, and what a channel gives back. Each
 * channel folder's index.ts exports one ChannelStarter; main.ts starts them
 * from a list. Channels meet the assistant through its façade and the
 * process through these hooks, never through each other or gateway/.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgentEvent } from '../agent/types.js';
import type { HeartbeatEventPayload } from '../bus/scheduler-events.js';
import type { CronHandle } from '../cron/lazy-cron.js';
import type { DeliveryTarget } from '../cron/delivery.js';
import type { ModelCatalog } from '../providers/model-catalog.js';
import type { ModelCooldowns } from '../providers/model-cooldowns.js';
import type { PriceBook } from '../providers/model-prices.js';
import type { AgentDirectory } from '../assistant/agent-directory.js';
import type { Assistant } from '../assistant/types.js';
import type { OutboundBus } from '../bus/types.js';
import type { LiveConfig } from '../config/live-config.js';
import type { PincerConfig } from '../config/schema.js';
import type { McpServerView } from '../mcp/mcp-manager.js';
import type { ToolSpec } from '../providers/types.js';
import type { AuthRateLimiter } from '../security/auth-rate-limiter.js';
import type { DeviceTokenStore } from '../security/device-token-store.js';
import type { RequestGate } from '../security/request-gate.js';
import type { AuthSecretResolver } from '../security/secret-compare.js';
import type { LogTail, LogTailOptions } from '../util/log-ring.js';
import type { Logger } from '../util/logger.js';

/** An HTTP route: true when it handled the request, false to let the next one try. */
export type ChannelRoute = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
/** Takes over an HTTP upgrade; must answer or destroy the socket. */
export type ChannelUpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void | Promise<void>;

export interface ChannelHost {
  /** The config the gateway started with (frozen). */
  config: PincerConfig;
  /** The config file: read it with its hash and change it; hot keys apply at once (config.*, agents.*). */
  configFile: LiveConfig;
  /** The recent log lines (logs.tail), secrets already redacted. */
  logs: { tail(options: LogTailOptions): LogTail };
  /** The one way to the assistant. */
  assistant: Assistant;
  /** The tools the model may be offered, for catalogues. */
  tools: { builtinTools(): readonly ToolSpec[]; mcpServers(): readonly McpServerView[] };
  /** The configured models, their cooldowns and prices, for catalogues, usage and sessions.patch { model }. */
  models: { catalog: ModelCatalog; cooldowns: ModelCooldowns; prices: PriceBook };
  /** The scheduler and the latest heartbeat, for cron.* and last-heartbeat. */
  scheduler: { cron: CronHandle; lastHeartbeat(): HeartbeatEventPayload | null };
  /** Run and session events, to subscribe to (fan-out); channels never publish. */
  events: Pick<OutboundBus<AgentEvent>, 'subscribe'>;
  getAuthSecret: AuthSecretResolver;
  /** Shared by every surface that checks the secret, so guesses count once per client. */
  authLimiter: AuthRateLimiter;
  /** The one Host/Origin gate for the upgrade and every HTTP route that reads the secret. */
  gate: RequestGate;
  /** Device tokens issued in hello-ok, kept hashed in the state directory. */
  deviceTokens: DeviceTokenStore;
  /** Raw client key → canonical key; throws GatewayError on an invalid key. */
  canonicalize(raw: string): string;
  /** The configured agents (the default first): roster, identity, workspace files, create/update/delete. */
  agents: AgentDirectory;
  version: string;
  /** The bound port. */
  port: number;
  logger: Logger;
  /** True from the start of the drain: refuse new work with a retryable UNAVAILABLE. */
  isDraining(): boolean;
  addRoute(route: ChannelRoute): void;
  setUpgradeHandler(handler: ChannelUpgradeHandler): void;
  /** Work to finish within the drain budget (epoch-ms deadline); hooks run in parallel. */
  onDrain(name: string, hook: (deadlineMs: number) => Promise<void>): void;
  /** Let runs end (aborting them near the budget); resolves when none is left. */
  drainRuns(budgetMs: number): Promise<void>;
  /** Release on close, after the drain; last registered first. */
  onClose(cleanup: () => void | Promise<void>): void;
  /** Let scheduled jobs deliver their replies through this channel (`delivery.channel`). */
  addDeliveryTarget(target: DeliveryTarget): void;
  /** Every started channel, for status and pairing methods (filled once all have started). */
  channels(): readonly StartedChannel[];
}

/** A channel's health, for channels.status (OpenClaw's account snapshot fields). */
export interface ChannelStatus {
  /** The config has what the channel needs to run (a token, …). */
  configured: boolean;
  /** Connected and receiving. */
  running: boolean;
  /** The last failure, cleared once the channel works again. */
  lastError: string | null;
  /** Further channel-specific fields (mode, bot username, …). */
  [detail: string]: unknown;
}

/** One sender waiting for the operator's approval (a DM pairing request). */
export interface PairingRequest {
  channel: string;
  accountId: string;
  /** The one-time code the sender was given. */
  code: string;
  /** The sender's id on the channel. */
  id: string;
  meta: Record<string, string>;
  createdAtMs: number;
  expiresAtMs: number;
}

/** DM pairing of a channel whose dmPolicy is `pairing`. */
export interface ChannelPairing {
  /** Pending requests, oldest first (expired ones left out). */
  list(): Promise<PairingRequest[]>;
  /** Approve the sender holding `code`; undefined when no pending request has it. */
  approve(code: string): Promise<{ id: string; accountId: string } | undefined>;
  /** Limits reported by channels.pairing.list. */
  readonly limits: { pendingPerAccount: number; ttlMs: number };
}

/** What a started channel tells main.ts. */
export interface StartedChannel {
  name: string;
  /** True when the channel's drain hook lets the runs end itself (so main.ts does not). */
  drainsRuns?: boolean;
  /** Counters for tests and leak checks. */
  stats?(): unknown;
  /** Health for channels.status; channels without one are reported as running. */
  status?(): ChannelStatus;
  /** Present on channels with DM pairing. */
  pairing?: ChannelPairing;
}

/** Start a channel on the host; undefined when the config turns it off. */
export type ChannelStarter = (host: ChannelHost) => StartedChannel | undefined;
