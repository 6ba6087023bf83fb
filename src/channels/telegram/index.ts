/**
 * The Telegram channel's face. Off unless `channels.telegram.enabled`; when
 * on, it loads the channel (and grammY) with import(), registers the webhook
 * route, the pairing hooks and the cron delivery target at once, and lets
 * the bot connect in the background, so /ready never waits on Telegram.
 */

import type { ChannelStarter, ChannelStatus } from '../channel-host.js';
import type { TelegramRuntime } from './telegram-runtime.js';

/** Pairing limits, as channels.pairing.list reports them (mirrors pairing-store.ts, which loads lazily). */
const PAIRING_LIMITS = { pendingPerAccount: 3, ttlMs: 60 * 60 * 1000 };

/** Start the Telegram channel on the host. */
export const startTelegramChannel: ChannelStarter = (host) => {
  const config = host.config.channels.telegram;
  if (!config.enabled) return undefined;
  const logger = host.logger.child({ component: 'telegram' });
  let runtime: TelegramRuntime | undefined;
  let loadError: string | null = null;
  const loading: Promise<TelegramRuntime | undefined> = import('./telegram-runtime.js')
    .then((module) =>
      module.startTelegramRuntime({
        config,
        dmScope: host.config.session.dmScope,
        agentId: host.agents.defaultId,
        stateDir: host.config.stateDir,
        assistant: host.assistant,
        model: host.config.provider?.model ?? '',
        logger,
      }),
    )
    .then((started) => {
      runtime = started;
      return started;
    })
    .catch((error: unknown) => {
      loadError = error instanceof Error ? error.message : String(error);
      logger.error('telegram channel failed to start', { err: error });
      return undefined;
    });
  const ready = async (): Promise<TelegramRuntime> => {
    const started = await loading;
    if (started === undefined) throw new Error(`the Telegram channel is not running: ${loadError ?? 'not started'}`);
    return started;
  };

  if (config.webhookUrl !== undefined) {
    // The route's code loads with the channel; until then Telegram is asked to retry.
    host.addRoute((req, res) => {
      if (runtime !== undefined) return runtime.webhookRoute(req, res, host.isDraining());
      if ((req.url ?? '').split('?')[0] !== config.webhookPath) return false;
      req.resume();
      res.writeHead(503, { 'retry-after': '1' }).end();
      return true;
    });
  }
  host.addDeliveryTarget({
    channel: 'telegram',
    deliver: async ({ to, text }) => (await ready()).deliver(to, text),
  });
  host.onDrain('telegram', async (deadlineMs) => {
    await (await loading)?.stop(deadlineMs);
  });

  return {
    name: 'telegram',
    status: (): ChannelStatus => runtime?.status() ?? { configured: config.botToken !== undefined, running: false, lastError: loadError },
    stats: () => runtime?.stats(),
    pairing: {
      limits: PAIRING_LIMITS,
      list: async () => (config.dmPolicy === 'pairing' ? (await ready()).pairingRequests() : []),
      approve: async (code) => (await ready()).approve(code),
    },
  };
};
