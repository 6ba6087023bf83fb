/**
 * The Telegram channel at work, loaded (with grammY) only when
 * `channels.telegram.enabled`: opens the pairing store and the ingress ledger,
 * resumes replies a restart cut short, learns the bot's name (getMe, retried
 * until it works), then receives updates by long polling or by webhook.
 * The gateway never waits on Telegram: /ready does not depend on any of this.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Update } from 'grammy/types';
import type { Assistant } from '../../assistant/types.js';
import type { DmScope, TelegramConfig } from '../../config/telegram-config.js';
import { abortableSleep } from '../../providers/abortable-sleep.js';
import type { Logger } from '../../util/logger.js';
import type { ChannelRoute, ChannelStatus, PairingRequest } from '../channel-host.js';
import { createBotClient, TelegramApiError } from './bot-client.js';
import { COMMANDS } from './chat-commands.js';
import { chunkText } from './chunk-text.js';
import { openIngressLedger, type OwedReply } from './ingress-ledger.js';
import { createMessageSender } from './message-sender.js';
import { MAX_PENDING_REQUESTS, openPairingStore, PAIRING_TTL_MS } from './pairing-store.js';
import { streamReply } from './reply-streamer.js';
import { DEFAULT_ACCOUNT_ID } from './session-routing.js';
import { handleUpdate, type BotIdentity } from './update-handler.js';
import { startPoller, type Poller } from './update-poller.js';
import { createWebhookRoute } from './webhook-route.js';

/** Sub-directory of the state dir for the channel's files. */
export const TELEGRAM_DIR_NAME = 'telegram';
/** Back-off between getMe tries while the token or network is not working, ms. */
const GET_ME_RETRY_MS = 5_000;

export interface TelegramRuntimeDeps {
  config: TelegramConfig;
  dmScope: DmScope;
  agentId: string;
  stateDir: string;
  assistant: Assistant;
  model: string;
  logger: Logger;
}

export interface TelegramRuntime {
  status(): ChannelStatus;
  pairingRequests(): PairingRequest[];
  approve(code: string): Promise<{ id: string; accountId: string } | undefined>;
  /** Send a scheduled job's reply to a chat (cron delivery). */
  deliver(to: string, text: string): Promise<void>;
  /** The webhook route (webhook mode); refuses updates while the gateway drains. */
  webhookRoute(req: IncomingMessage, res: ServerResponse, draining: boolean): boolean | Promise<boolean>;
  stats(): { activeReplies: number; rateLimited: number; plainTextFallbacks: number };
  /** Stop receiving, then let replies in progress finish until `deadlineMs`. */
  stop(deadlineMs: number): Promise<void>;
}

export const PAIRING_LIMITS = { pendingPerAccount: MAX_PENDING_REQUESTS, ttlMs: PAIRING_TTL_MS } as const;

/** Start the channel: resolves once its files are open; the bot connects in the background. */
export async function startTelegramRuntime(deps: TelegramRuntimeDeps): Promise<TelegramRuntime> {
  const { config, logger } = deps;
  const dir = join(deps.stateDir, TELEGRAM_DIR_NAME);
  const pairing = await openPairingStore(join(dir, 'pairing.json'));
  const ledger = await openIngressLedger(join(dir, 'ingress.json'));
  const status = {
    running: false,
    /** The last Bot API call of the receiving loop worked. */
    connected: false,
    lastError: null as string | null,
    bot: undefined as BotIdentity | undefined,
    lastInboundAt: null as number | null,
    lastOutboundAt: null as number | null,
  };
  const client = createBotClient({
    token: config.botToken ?? '',
    apiRoot: config.apiRoot,
    onRetry: (reason) => logger.warn('telegram api retry', { reason }),
  });
  const sender = createMessageSender(client, () => {
    status.lastOutboundAt = Date.now();
  });
  const replies = new Set<Promise<void>>();
  const stopping = new AbortController();
  const startReply = (owed: OwedReply, live: boolean): void => {
    const reply = streamReply({ assistant: deps.assistant, client, sender, ledger, logger, streaming: config.streaming, textChunkLimit: config.textChunkLimit }, owed, { live });
    replies.add(reply);
    void reply.finally(() => replies.delete(reply));
  };
  const handlerDeps = {
    config,
    dmScope: deps.dmScope,
    agentId: deps.agentId,
    assistant: deps.assistant,
    client,
    sender,
    ledger,
    pairing,
    bot: () => status.bot,
    model: deps.model,
    logger,
    startReply,
    onInbound: () => {
      status.lastInboundAt = Date.now();
    },
  };
  // Replies a restart cut short: deliver what their runs left, once.
  for (const owed of ledger.owed()) startReply(owed, false);

  const webhook: { draining: boolean; route: ChannelRoute } = {
    draining: false,
    route: createWebhookRoute({
      path: config.webhookPath,
      secret: config.webhookSecret ?? '',
      accept: (): ((update: Update) => Promise<void>) | undefined => (config.webhookUrl === undefined || webhook.draining || stopping.signal.aborted ? undefined : (update: Update) => handleUpdate(handlerDeps, update)),
      onError: (error) => logger.warn('telegram webhook update failed', { err: error }),
    }),
  };
  let poller: Poller | undefined;
  const connect = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const me = await client.call<{ id: number; username?: string }>('getMe', {}, { signal: stopping.signal, attempts: 1 });
        status.bot = { id: me.id, username: me.username ?? '' };
        break;
      } catch (error) {
        if (stopping.signal.aborted) return;
        status.lastError = describe(error);
        logger.warn('telegram getMe failed; retrying', { err: error });
        await abortableSleep(GET_ME_RETRY_MS, stopping.signal);
      }
    }
    if (stopping.signal.aborted) return;
    client.call('setMyCommands', { commands: COMMANDS }, { attempts: 1 }).catch((error: unknown) => logger.debug('telegram setMyCommands failed', { err: error }));
    if (config.webhookUrl !== undefined) {
      try {
        await client.call('setWebhook', { url: config.webhookUrl, secret_token: config.webhookSecret, allowed_updates: ['message'] }, { signal: stopping.signal });
        status.running = true;
        status.connected = true;
        status.lastError = null;
      } catch (error) {
        status.lastError = describe(error);
        logger.error('telegram setWebhook failed', { err: error });
      }
      return;
    }
    try {
      // getUpdates is refused while a webhook is set; keep the updates it holds.
      await client.call('deleteWebhook', { drop_pending_updates: false }, { signal: stopping.signal });
    } catch (error) {
      if (stopping.signal.aborted) return;
      logger.warn('telegram deleteWebhook failed', { err: error });
    }
    if (stopping.signal.aborted) return;
    poller = startPoller({
      client,
      offset: () => ledger.offset,
      handle: (update) => handleUpdate(handlerDeps, update),
      onPoll: () => {
        status.connected = true;
        status.lastError = null;
      },
      onError: (error, fatal) => {
        status.lastError = describe(error);
        status.connected = false;
        if (fatal) status.running = false;
        logger[fatal ? 'error' : 'warn']('telegram polling failed', { err: error, fatal });
      },
    });
    status.running = true;
    logger.info('telegram bot connected', { username: status.bot?.username, mode: 'polling' });
  })();

  return {
    status: () => ({
      configured: config.botToken !== undefined,
      running: status.running,
      connected: status.connected,
      lastError: status.lastError,
      mode: config.webhookUrl === undefined ? 'polling' : 'webhook',
      accountId: DEFAULT_ACCOUNT_ID,
      dmPolicy: config.dmPolicy,
      bot: status.bot === undefined ? null : { id: status.bot.id, username: status.bot.username },
      lastInboundAt: status.lastInboundAt,
      lastOutboundAt: status.lastOutboundAt,
    }),
    pairingRequests: () =>
      pairing.pending().map((entry) => ({
        channel: 'telegram',
        accountId: DEFAULT_ACCOUNT_ID,
        code: entry.code,
        id: entry.senderId,
        meta: entry.meta,
        createdAtMs: entry.createdAtMs,
        expiresAtMs: entry.createdAtMs + PAIRING_TTL_MS,
      })),
    async approve(code) {
      const entry = await pairing.approve(code);
      if (entry === undefined) return undefined;
      logger.info('telegram sender approved', { senderUserId: entry.senderId });
      sender.send(Number(entry.senderId), '✅ Access approved. Send me a message.', { plain: true }).catch((error: unknown) => logger.warn('telegram approval notice failed', { err: error }));
      return { id: entry.senderId, accountId: DEFAULT_ACCOUNT_ID };
    },
    async deliver(to, text) {
      const chatId = Number(to.trim().replace(/^(telegram|tg):/i, ''));
      if (!Number.isSafeInteger(chatId) || chatId === 0) throw new Error(`delivery.to must be a Telegram chat id, got ${JSON.stringify(to)}`);
      for (const part of chunkText(text, config.textChunkLimit)) await sender.send(chatId, part);
    },
    webhookRoute: (req, res, draining) => {
      webhook.draining = draining;
      return webhook.route(req, res);
    },
    stats: () => ({ activeReplies: replies.size, rateLimited: client.rateLimited, plainTextFallbacks: sender.stats.plainTextFallbacks }),
    async stop(deadlineMs) {
      stopping.abort();
      await connect;
      await poller?.stop();
      status.running = false;
      status.connected = false;
      // Replies of runs that are ending (the agent drains them) still go out, within the budget.
      const left = Math.max(0, deadlineMs - Date.now());
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...replies]), new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof TelegramApiError && error.code === 401) return 'unauthorized: the bot token was rejected (check channels.telegram.botToken)';
  return error instanceof Error ? error.message : String(error);
}
