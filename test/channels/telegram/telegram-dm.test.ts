/**
 * Direct messages end to end: an allowlisted sender's message reaches the
 * agent and the reply streams back as one edited message; strangers reach
 * nothing; pairing hands out a code and approval lets the sender in.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { finalText } from '../../helpers/fake-telegram.js';
import { OWNER, STRANGER, startTelegramScene, type TelegramScene } from './telegram-setup.js';

describe('telegram direct messages (allowlist)', () => {
  let scene: TelegramScene;
  before(async () => {
    scene = await startTelegramScene();
  });
  after(() => scene.close());

  it('answers an allowlisted sender in the main session, with a typing indicator', async () => {
    const { telegram, gateway } = scene;
    telegram.sendText(OWNER, 'hello bot');
    await telegram.waitFor(() => telegram.messagesIn(OWNER.id).some((message) => finalText(message) === 'Hello from the model.'), 15_000, 'the reply');
    const messages = telegram.messagesIn(OWNER.id);
    assert.equal(messages.length, 1, 'one message, edited, not one per delta');
    assert.ok(telegram.chatActions.some((action) => action.chatId === OWNER.id && action.action === 'typing'));
    const history = await gateway.pincer.gateway; // keep the handle referenced
    assert.ok(history);
    const sessionFile = await stat(join(gateway.stateDir, 'telegram', 'ingress.json'));
    assert.equal(sessionFile.mode & 0o777, 0o600);
  });

  it('passes nothing from a sender outside allowFrom to the agent', async () => {
    const { telegram, model } = scene;
    const before = model.requests.length;
    const updateId = telegram.sendText(STRANGER, 'let me in');
    // A later owner message is answered, so the stranger's update was seen and skipped.
    telegram.sendText(OWNER, 'second');
    await telegram.waitFor(() => telegram.messagesIn(OWNER.id).length === 2 && finalText(telegram.messagesIn(OWNER.id)[1]) === 'Hello from the model.', 15_000, 'second reply');
    assert.equal(model.requests.length, before + 1, 'only the owner message reached the model');
    assert.equal(telegram.messagesIn(STRANGER.id).length, 0);
    assert.equal(telegram.handedOut.get(updateId), 1);
  });
});
