/**
 * Webhook mode and scheduled-job delivery: the gateway registers its webhook
 * with the secret, refuses a request without it, answers an update once even
 * when Telegram delivers it twice; a cron job whose delivery names Telegram
 * posts its reply to that chat. channels.status reports the bot.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { FAKE_BOT, finalText, startFakeTelegram } from '../../helpers/fake-telegram.js';
import { startFakeModelServer } from '../../helpers/fake-model-server.js';
import { OWNER, startTelegramScene, type TelegramScene } from './telegram-setup.js';

const SECRET = 'webhook-secret_0123456789';

describe('telegram webhook mode', () => {
  let scene: TelegramScene;
  before(async () => {
    const telegram = await startFakeTelegram();
    const model = await startFakeModelServer({ defaultReply: { text: ['Hello', ' from', ' the', ' model.'] } });
    // The webhook URL names the gateway's port, known only once it listens: reserve one first.
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    scene = await startTelegramScene({
      fakes: { telegram, model },
      port,
      telegram: { webhookUrl: `http://127.0.0.1:${port}/tg-hook`, webhookSecret: SECRET },
    });
    const close = scene.close;
    scene.close = async () => {
      await close();
      await telegram.close();
      await model.close();
    };
  });
  after(() => scene.close());

  it('registers the webhook, checks the secret, and answers a redelivered update once', async () => {
    const { telegram, model } = scene;
    await telegram.waitFor(() => telegram.webhook !== undefined, 15_000, 'setWebhook');
    assert.equal(telegram.webhook?.secret, SECRET);
    assert.match(telegram.webhook?.url ?? '', /\/tg-hook$/);
    assert.ok(!telegram.calls.some((call) => call.method === 'getUpdates'), 'no polling in webhook mode');

    const update = telegram.sendText(OWNER, 'via webhook');
    assert.equal(await telegram.deliverWebhook(update, 'wrong-secret'), 401);
    assert.equal(model.requests.length, 0);
    assert.equal(await telegram.deliverWebhook(update), 200);
    await telegram.waitFor(() => telegram.messagesIn(OWNER.id).some((message) => finalText(message) === 'Hello from the model.'), 15_000, 'the reply');
    assert.equal(await telegram.deliverWebhook(update), 200, 'a redelivery is acknowledged');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(model.requests.length, 1, 'and not handled again');
    assert.equal(telegram.messagesIn(OWNER.id).length, 1);
  });
});

describe('telegram delivery of scheduled jobs, and channels.status', () => {
  let scene: TelegramScene;
  let client: ProtocolClient;
  before(async () => {
    scene = await startTelegramScene();
    client = await ProtocolClient.open(scene.gateway.wsUrl);
    await client.connect({ token: scene.gateway.token });
  });
  after(async () => {
    await client?.close();
    await scene.close();
  });

  it('posts a job reply to the chat its delivery names', async () => {
    const { telegram } = scene;
    const added = await client.request('cron.add', {
      name: 'nudge',
      schedule: { kind: 'every', everyMs: 3_600_000 },
      payload: { kind: 'agentTurn', message: 'Time to stretch?' },
      delivery: { mode: 'announce', channel: 'telegram', to: String(OWNER.id) },
    });
    assert.equal(added.ok, true, JSON.stringify(added.error));
    const run = await client.request('cron.run', { id: added.payload.id, mode: 'force' });
    assert.equal(run.ok, true, JSON.stringify(run.error));
    await telegram.waitFor(() => telegram.messagesIn(OWNER.id).some((message) => finalText(message) === 'Hello from the model.'), 20_000, 'the delivered reply');
    assert.equal(telegram.messagesIn(OWNER.id).length, 1);
  });

  it('reports the channel in channels.status with the bot username', async () => {
    await scene.telegram.waitFor(() => scene.telegram.calls.some((call) => call.method === 'getUpdates'), 15_000, 'polling');
    const status = await client.request('channels.status', {});
    assert.equal(status.ok, true, JSON.stringify(status.error));
    assert.deepEqual(status.payload.channelOrder, ['telegram'], JSON.stringify(status.payload));
    const telegramStatus = status.payload.channels.telegram;
    assert.equal(telegramStatus.configured, true);
    assert.equal(telegramStatus.running, true);
    assert.equal(telegramStatus.lastError, null);
    assert.equal(telegramStatus.bot.username, FAKE_BOT.username);
    assert.equal(telegramStatus.mode, 'polling');
  });

  it('reports a rejected token as the last error, and /ready does not wait on Telegram', async () => {
    const other = await startTelegramScene({ fakes: { telegram: scene.telegram, model: scene.model }, telegram: { botToken: '987654321:AAWrongTokenForTestsOnly_abcdefghij' } });
    try {
      const ready = await fetch(`${other.gateway.url}/ready`);
      assert.equal(ready.status, 200);
      const probe = await ProtocolClient.open(other.gateway.wsUrl);
      try {
        await probe.connect({ token: other.gateway.token });
        let telegramStatus: { running: boolean; lastError: string | null; configured: boolean } | undefined;
        for (let i = 0; i < 100 && telegramStatus?.lastError == null; i++) {
          telegramStatus = (await probe.request('channels.status', {})).payload.channels.telegram;
          if (telegramStatus?.lastError == null) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.equal(telegramStatus?.configured, true);
        assert.equal(telegramStatus?.running, false);
        assert.match(telegramStatus?.lastError ?? '', /unauthorized: the bot token was rejected/);
      } finally {
        await probe.close();
      }
    } finally {
      await other.gateway.close();
    }
  });
});
