/**
 * A gateway with the Telegram channel on, wired to a fake Bot API and a fake
 * model, both on loopback; closed in the caller's after hook.
 */

import type { FileConfig } from '../../../src/config/schema.js';
import { startFakeModelServer, type FakeModelServer } from '../../helpers/fake-model-server.js';
import { FAKE_BOT_TOKEN, startFakeTelegram, type FakeTelegram } from '../../helpers/fake-telegram.js';
import { startGateway, type StartedGateway } from '../../helpers/start-gateway.js';

export const OWNER = { id: 111, first_name: 'Olive', username: 'olive' };
export const STRANGER = { id: 222, first_name: 'Sam', username: 'sam' };

export interface TelegramScene {
  telegram: FakeTelegram;
  model: FakeModelServer;
  gateway: StartedGateway;
  close(): Promise<void>;
}

type TelegramOverrides = NonNullable<NonNullable<FileConfig['channels']>['telegram']>;

/** Start the fakes and a gateway whose channels.telegram merges `telegram` over an enabled default. */
export async function startTelegramScene(
  options: { telegram?: TelegramOverrides; overrides?: FileConfig; stateDir?: string; port?: number; fakes?: { telegram: FakeTelegram; model: FakeModelServer } } = {},
): Promise<TelegramScene> {
  const telegram = options.fakes?.telegram ?? (await startFakeTelegram());
  const model = options.fakes?.model ?? (await startFakeModelServer({ defaultReply: { text: ['Hello', ' from', ' the', ' model.'] } }));
  const gateway = await startGateway({
    stateDir: options.stateDir,
    port: options.port,
    overrides: {
      provider: { kind: 'openai', model: 'fake-model', baseUrl: model.url, apiKey: 'sk-fake', maxRetries: 0 },
      ...options.overrides,
      channels: { telegram: { enabled: true, botToken: FAKE_BOT_TOKEN, apiRoot: telegram.url, dmPolicy: 'allowlist', allowFrom: [String(OWNER.id)], ...options.telegram } },
    },
  });
  return {
    telegram,
    model,
    gateway,
    close: async () => {
      await gateway.close();
      if (options.fakes === undefined) {
        await telegram.close();
        await model.close();
      }
    },
  };
}
