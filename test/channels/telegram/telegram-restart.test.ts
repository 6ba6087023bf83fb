/**
 * Exactly once across restarts. In process: a gateway closed while its
 * getUpdates waits, with updates arriving while it is down, answers each
 * update once after the restart. As a child process from the bundle
 * (dist/pincer.mjs with vendor/telegram.mjs): SIGKILL while a reply streams,
 * and again right after a message is received, still gives every update one
 * turn and one reply, finished by editing what was already sent.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeModelServer, type FakeModelServer, type RecordedRequest } from '../../helpers/fake-model-server.js';
import { FAKE_BOT_TOKEN, finalText, startFakeTelegram, type FakeTelegram } from '../../helpers/fake-telegram.js';
import { hermeticEnv, makeTempHome, spawnCli, waitForListening, waitForReady, type CliProcess } from '../../helpers/spawn-cli.js';
import { OWNER, startTelegramScene } from './telegram-setup.js';

const RESTART_NOTE = /The gateway restarted before this reply was finished/;

/** The user text each model request answers (its last user message). */
function askedTexts(model: FakeModelServer): string[] {
  return model.requests.map((request: RecordedRequest) => {
    const messages = request.body.messages as { role: string; content: unknown }[];
    const last = [...messages].reverse().find((message) => message.role === 'user');
    return typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content);
  });
}

describe('telegram across a restart in the middle of a poll', () => {
  let telegram: FakeTelegram;
  let model: FakeModelServer;
  let stateDir: string;
  before(async () => {
    telegram = await startFakeTelegram({ maxPollWaitMs: 60_000 });
    model = await startFakeModelServer({ defaultReply: { text: ['Hello', ' from', ' the', ' model.'] } });
    stateDir = await mkdtemp(join(tmpdir(), 'pincer-tg-restart-'));
  });
  after(async () => {
    await telegram.close();
    await model.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('answers every update once: none twice, none skipped', async () => {
    const fakes = { telegram, model };
    let scene = await startTelegramScene({ stateDir, fakes });
    const one = telegram.sendText(OWNER, 'one');
    await telegram.waitFor(() => telegram.messagesIn(OWNER.id).length === 1 && finalText(telegram.messagesIn(OWNER.id)[0]) === 'Hello from the model.', 15_000, 'reply one');
    // The next getUpdates is waiting (long poll) when the gateway stops.
    await telegram.waitFor(() => telegram.calls.some((call) => call.method === 'getUpdates' && Number(call.params.offset) > one), 15_000, 'a waiting poll');
    await scene.gateway.close();
    const two = telegram.sendText(OWNER, 'two');
    const three = telegram.sendText(OWNER, 'three');
    scene = await startTelegramScene({ stateDir, fakes });
    try {
      await telegram.waitFor(() => telegram.messagesIn(OWNER.id).filter((message) => finalText(message) === 'Hello from the model.').length === 3, 20_000, 'replies two and three');
      telegram.sendText(OWNER, 'four');
      await telegram.waitFor(() => telegram.messagesIn(OWNER.id).length === 4 && finalText(telegram.messagesIn(OWNER.id)[3]) === 'Hello from the model.', 15_000, 'reply four');
    } finally {
      await scene.gateway.close();
    }
    assert.deepEqual(askedTexts(model), ['one', 'two', 'three', 'four']);
    assert.equal(telegram.messagesIn(OWNER.id).length, 4);
    // Telegram may hand an update out again (a poll cut by the stop); it is still handled once.
    for (const id of [two, three]) assert.ok((telegram.handedOut.get(id) ?? 0) >= 1, `update ${id} handed out`);
  });
});

describe('telegram in the bundled gateway, killed with SIGKILL', () => {
  let telegram: FakeTelegram;
  let model: FakeModelServer;
  let home: string;
  let stateDir: string;
  let env: Record<string, string>;
  let gateway: CliProcess | undefined;
  before(async () => {
    telegram = await startFakeTelegram();
    model = await startFakeModelServer({ defaultReply: { text: ['Fine', ' answer.'] } });
    home = await makeTempHome();
    stateDir = join(home, 'state');
    env = hermeticEnv(home, { PINCER_TOKEN: 'a-long-enough-test-token-for-the-gateway-0123' });
    await mkdtempState(stateDir);
    await writeFile(
      join(stateDir, 'config.json'),
      JSON.stringify({
        provider: { kind: 'openai', model: 'fake-model', baseUrl: model.url, apiKey: 'sk-fake', maxRetries: 0 },
        channels: { telegram: { enabled: true, botToken: FAKE_BOT_TOKEN, apiRoot: telegram.url, dmPolicy: 'allowlist', allowFrom: [String(OWNER.id)] } },
        logLevel: 'info',
      }),
      { mode: 0o600 },
    );
  });
  after(async () => {
    gateway?.kill();
    await telegram.close();
    await model.close();
    await rm(home, { recursive: true, force: true });
  });

  const start = async (): Promise<void> => {
    gateway = spawnCli(['gateway', '--port', '0', '--state-dir', stateDir, '--log-format', 'json'], env);
    const { url } = await waitForListening(gateway);
    await waitForReady(url);
  };
  const kill = async (): Promise<void> => {
    gateway?.child.kill('SIGKILL');
    await gateway?.waitForExit(10_000);
    gateway = undefined;
  };

  it('finishes a reply cut mid-stream by editing its message, and answers a message cut right after receipt once', async () => {
    await start();
    // 1: killed while the reply streams (a preview is in the chat).
    model.enqueue({ text: Array.from({ length: 100 }, (_, i) => `part${i} `), chunkDelayMs: 100 });
    telegram.sendText(OWNER, 'cut me mid-stream');
    // Two edits in: the preview's id is in the ledger and the session has a checkpoint of the text.
    await telegram.waitFor(() => telegram.messagesIn(OWNER.id).length === 1 && telegram.messagesIn(OWNER.id)[0].edits.length >= 2, 30_000, 'the preview');
    await kill();
    await start();
    await telegram.waitFor(() => RESTART_NOTE.test(finalText(telegram.messagesIn(OWNER.id)[0] ?? { text: '', edits: [] } as never)), 30_000, 'the finished first reply').catch((error: Error) => {
      throw new Error(`${error.message}; chat: ${JSON.stringify(telegram.messagesIn(OWNER.id))}; log: ${gateway?.stderr().slice(-3000)}`);
    });
    assert.equal(telegram.messagesIn(OWNER.id).length, 1, 'the cut reply was edited, not sent again');
    assert.match(finalText(telegram.messagesIn(OWNER.id)[0]), /^part0 part1/);

    // 2: killed as soon as the model is asked (the message was received, no reply yet).
    model.enqueue({ text: ['never', ' seen'], firstByteDelayMs: 60_000 });
    const asked = model.requests.length;
    telegram.sendText(OWNER, 'cut me before the answer');
    await model.waitFor(() => model.requests.length > asked, 30_000);
    await kill();
    await start();
    await telegram.waitFor(() => telegram.messagesIn(OWNER.id).length === 2, 30_000, 'the answer to the second message');
    assert.match(finalText(telegram.messagesIn(OWNER.id)[1]), RESTART_NOTE);

    // 3: business as usual, and nothing was handled twice.
    telegram.sendText(OWNER, 'and now?');
    await telegram.waitFor(() => telegram.messagesIn(OWNER.id).length === 3 && finalText(telegram.messagesIn(OWNER.id)[2]) === 'Fine answer.', 30_000, 'the third reply');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(telegram.messagesIn(OWNER.id).length, 3, 'no reply delivered twice');
    assert.deepEqual(askedTexts(model), ['cut me mid-stream', 'cut me before the answer', 'and now?']);
    await kill();
  });
});

async function mkdtempState(dir: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true, mode: 0o700 });
}
