/**
 * DM pairing: an unknown sender gets one code and reaches nothing; the
 * operator sees and approves it over the protocol and with `pincer pairing`;
 * the approval persists (0600) across a restart.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { hermeticEnv, makeTempHome, runCli } from '../../helpers/spawn-cli.js';
import { finalText } from '../../helpers/fake-telegram.js';
import { STRANGER, startTelegramScene, type TelegramScene } from './telegram-setup.js';

const CODE = /\b([A-HJ-NP-Z2-9]{8})\b/;

describe('telegram pairing', () => {
  let scene: TelegramScene;
  let stateDir: string;
  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'pincer-tg-pair-'));
    scene = await startTelegramScene({ stateDir, telegram: { dmPolicy: 'pairing', allowFrom: [] } });
  });
  after(async () => {
    await scene.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('gives an unknown sender one code, passes nothing on, and lets them in once approved', async () => {
    const { telegram, model, gateway } = scene;
    telegram.sendText(STRANGER, 'hi there');
    await telegram.waitFor(() => telegram.messagesIn(STRANGER.id).length === 1, 15_000, 'the pairing code');
    const codeMessage = finalText(telegram.messagesIn(STRANGER.id)[0]);
    const code = CODE.exec(codeMessage)?.[1];
    assert.ok(code, codeMessage);
    assert.match(codeMessage, new RegExp(`user id: ${STRANGER.id}`));
    // A second message while the code is live gets no second code.
    const again = telegram.sendText(STRANGER, 'hello?');
    await telegram.waitFor(() => telegram.calls.some((call) => call.method === 'getUpdates' && Number(call.params.offset) > again), 15_000, 'the second message acknowledged');
    assert.equal(telegram.messagesIn(STRANGER.id).length, 1);
    assert.equal(model.requests.length, 0, 'nothing reached the model');

    const client = await ProtocolClient.open(gateway.wsUrl);
    try {
      await client.connect({ token: gateway.token });
      const list = await client.request('channels.pairing.list', {});
      assert.equal(list.ok, true, JSON.stringify(list.error));
      assert.deepEqual(list.payload.limits, { pendingPerAccount: 3, ttlMs: 3_600_000 });
      assert.equal(list.payload.requests.length, 1);
      const request = list.payload.requests[0];
      assert.equal(request.channel, 'telegram');
      assert.equal(request.code, code);
      assert.equal(request.id, String(STRANGER.id));
      assert.equal(request.meta.username, 'sam');
      assert.equal(request.expiresAtMs - request.createdAtMs, 3_600_000);
      const wrong = await client.request('channels.pairing.approve', { channel: 'telegram', code: 'ZZZZ2222' });
      assert.equal(wrong.ok, false);
      assert.equal(wrong.error?.code, 'INVALID_REQUEST');
      assert.match(wrong.error?.message ?? '', /no pending pairing request with code ZZZZ2222/);
    } finally {
      await client.close();
    }

    const env = hermeticEnv(await makeTempHome(), { PINCER_TOKEN: gateway.token });
    const target = ['--host', '127.0.0.1', '--port', String(gateway.port)];
    const listed = await runCli(['pairing', 'list', ...target], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^telegram\\s+${code}\\s+${STRANGER.id}\\s+Sam \\(@sam\\)`, 'm'));
    const approved = await runCli(['pairing', 'approve', 'telegram', code.toLowerCase(), ...target], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(approved.stdout, `approved telegram sender ${STRANGER.id}\n`);
    const twice = await runCli(['pairing', 'approve', 'telegram', code, ...target], env);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /no pending pairing request/);

    await telegram.waitFor(() => telegram.messagesIn(STRANGER.id).some((message) => /approved/i.test(finalText(message))), 15_000, 'the approval notice');
    const file = join(stateDir, 'telegram', 'pairing.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.match(await readFile(file, 'utf8'), new RegExp(`"senderId":"${STRANGER.id}"`));

    telegram.sendText(STRANGER, 'now answer me');
    await telegram.waitFor(() => telegram.messagesIn(STRANGER.id).some((message) => finalText(message) === 'Hello from the model.'), 15_000, 'the reply');
    assert.equal(model.requests.length, 1);
  });

  it('still knows the approved sender after a restart', async () => {
    const fakes = { telegram: scene.telegram, model: scene.model };
    await scene.gateway.close();
    scene = await startTelegramScene({ stateDir, fakes, telegram: { dmPolicy: 'pairing', allowFrom: [] } });
    const before = scene.telegram.messagesIn(STRANGER.id).length;
    scene.telegram.sendText(STRANGER, 'after the restart');
    await scene.telegram.waitFor(() => scene.telegram.messagesIn(STRANGER.id).length === before + 1 && finalText(scene.telegram.messagesIn(STRANGER.id)[before]) === 'Hello from the model.', 15_000, 'the reply after restart');
    const closing = scene;
    scene = { ...closing, close: async () => { await closing.gateway.close(); await fakes.telegram.close(); await fakes.model.close(); } };
  });
});
