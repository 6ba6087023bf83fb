/**
 * Groups, commands, media, and sharing a session with WebSocket clients:
 * a group answers only when mentioned or replied to, in its own session;
 * /new, /stop, /status and /help act on the chat's session; a photo reaches
 * the model as an image; a WebSocket turn in the same session is never
 * posted to Telegram while WebSocket watchers see the Telegram turns.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { FAKE_BOT, finalText } from '../../helpers/fake-telegram.js';
import { OWNER, startTelegramScene, STRANGER, type TelegramScene } from './telegram-setup.js';

const GROUP = { id: -1001234, type: 'supergroup' as const, title: 'Team' };

describe('telegram chats', () => {
  let scene: TelegramScene;
  let client: ProtocolClient;
  before(async () => {
    scene = await startTelegramScene({ telegram: { groups: { [String(GROUP.id)]: { requireMention: true } }, groupAllowFrom: [String(OWNER.id), String(STRANGER.id)] } });
    client = await ProtocolClient.open(scene.gateway.wsUrl);
    await client.connect({ token: scene.gateway.token });
  });
  after(async () => {
    await client?.close();
    await scene.close();
  });

  it('answers in a group only when mentioned or replied to, in the group session, as a reply', async () => {
    const { telegram, model } = scene;
    const requestsBefore = model.requests.length;
    telegram.sendText(OWNER, 'just chatting', { chat: GROUP });
    const mention = `@${FAKE_BOT.username} what time is it?`;
    const mentioned = telegram.sendText(STRANGER, mention, { chat: GROUP, entities: [{ type: 'mention', offset: 0, length: FAKE_BOT.username.length + 1 }] });
    await telegram.waitFor(() => telegram.messagesIn(GROUP.id).some((message) => finalText(message) === 'Hello from the model.'), 15_000, 'the group reply');
    assert.equal(model.requests.length, requestsBefore + 1, 'only the mention reached the model');
    const reply = telegram.messagesIn(GROUP.id)[0];
    assert.ok(reply.replyTo !== undefined, 'answers as a reply to the mention');
    const session = (await client.request('sessions.list', {})).payload.sessions.find((row: { key: string }) => row.key === `agent:main:telegram:group:${GROUP.id}`);
    assert.ok(session, 'the group has its own session');
    const history = await client.request('chat.history', { sessionKey: `agent:main:telegram:group:${GROUP.id}` });
    assert.equal(history.payload.messages[0].content[0].text, 'Sam: what time is it?');
    assert.ok(mentioned > 0);

    telegram.sendText(OWNER, 'and tomorrow?', { chat: GROUP, replyToBotMessage: reply.message_id });
    await telegram.waitFor(() => telegram.messagesIn(GROUP.id).length === 2 && finalText(telegram.messagesIn(GROUP.id)[1]) === 'Hello from the model.', 15_000, 'the reply to a reply');
  });

  it('runs /help, /status, /new and /stop on the chat session', async () => {
    const { telegram, model } = scene;
    const count = () => telegram.messagesIn(OWNER.id).length;
    const ask = async (text: string): Promise<string> => {
      const before = count();
      telegram.sendText(OWNER, text);
      await telegram.waitFor(() => count() > before, 15_000, `the answer to ${text}`);
      return finalText(telegram.messagesIn(OWNER.id)[before]);
    };
    assert.match(await ask('/help'), /\/new — Start a new conversation[\s\S]*\/stop/);
    telegram.sendText(OWNER, 'remember me');
    await telegram.waitFor(() => telegram.messagesIn(OWNER.id).some((message) => finalText(message) === 'Hello from the model.'), 15_000, 'a reply');
    assert.match(await ask('/status'), /Session: agent:main:main\nMessages: 2\nModel: fake-model\nWorking: no/);
    assert.equal(await ask(`/new@${FAKE_BOT.username}`), '🆕 New conversation started.');
    assert.match(await ask('/status'), /Messages: 0/);

    model.enqueue({ text: Array.from({ length: 200 }, (_, i) => `slow${i} `), chunkDelayMs: 50 });
    const before = count();
    telegram.sendText(OWNER, 'talk for a long time');
    await telegram.waitFor(() => model.stats.inFlight > 0, 15_000, 'the slow run');
    telegram.sendText(OWNER, '/stop');
    const answers = () => telegram.messagesIn(OWNER.id).slice(before).map(finalText);
    await telegram.waitFor(() => answers().some((text) => /⏹ Stopped\.$/.test(text)), 15_000, 'the stopped reply');
    await telegram.waitFor(() => answers().includes('⏹ Stopped the reply.'), 15_000, 'the /stop answer');
    assert.equal(answers().length, 2, answers().join(' | '));
  });

  it('passes a photo to the model as an image and refuses other media clearly', async () => {
    const { telegram, model } = scene;
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]);
    const before = model.requests.length;
    telegram.sendPhoto(OWNER, jpeg, { caption: 'what is this?' });
    await telegram.waitFor(() => model.requests.length > before, 15_000, 'the model request');
    const body = JSON.stringify(model.requests.at(-1)!.body);
    assert.ok(body.includes(jpeg.toString('base64')), 'the downloaded bytes reach the model');
    assert.ok(body.includes('what is this?'));

    const sent = telegram.messagesIn(OWNER.id).length;
    telegram.sendMessageUpdate({ from: { is_bot: false, ...OWNER }, chat: { id: OWNER.id, type: 'private' }, sticker: { file_id: 's1', width: 1, height: 1 } });
    await telegram.waitFor(() => telegram.messagesIn(OWNER.id).slice(sent).some((message) => /sticker messages are not supported yet/.test(finalText(message))), 15_000, 'the refusal');
  });

  it('keeps WebSocket turns off Telegram while WebSocket watchers see Telegram turns', async () => {
    const { telegram } = scene;
    const sentBefore = telegram.sent.length;
    const wsRun = randomUUID();
    const send = await client.request('chat.send', { sessionKey: 'main', message: 'from the web chat', idempotencyKey: wsRun });
    assert.equal(send.ok, true, JSON.stringify(send.error));
    await client.waitFor((frame) => frame.type === 'event' && frame.event === 'chat' && frame.payload?.runId === wsRun && frame.payload?.state === 'final', 15_000, 'the web run final');

    const updateId = telegram.sendText(OWNER, 'from telegram');
    const tgRun = `telegram-${FAKE_BOT.id}-${updateId}`;
    const final = await client.waitFor((frame) => frame.type === 'event' && frame.event === 'chat' && frame.payload?.runId === tgRun && frame.payload?.state === 'final', 15_000, 'the telegram run final on the WebSocket');
    assert.equal(final.payload.sessionKey, 'agent:main:main');
    await telegram.waitFor(() => telegram.sent.length > sentBefore && finalText(telegram.sent.at(-1)!) === 'Hello from the model.', 15_000, 'the telegram reply');
    const posted = telegram.sent.slice(sentBefore);
    assert.equal(posted.length, 1, 'only the Telegram turn was posted to Telegram');
    assert.equal(posted[0].chatId, OWNER.id);
    const history = await client.request('chat.history', { sessionKey: 'main' });
    const texts = history.payload.messages.map((message: { content: { text?: string }[] }) => message.content.map((block) => block.text ?? '').join(''));
    assert.ok(texts.includes('from the web chat') && texts.includes('from telegram'), 'one conversation');
  });
});
