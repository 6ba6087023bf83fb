/** Access rules, session keys and the pairing store: pure or file-only, no sockets. */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideAccess } from '../../../src/channels/telegram/access-policy.js';
import { MAX_PENDING_REQUESTS, openPairingStore, PAIRING_CODE_ALPHABET, PAIRING_TTL_MS } from '../../../src/channels/telegram/pairing-store.js';
import { sessionKeyFor } from '../../../src/channels/telegram/session-routing.js';
import { loadConfig } from '../../../src/config/load-config.js';
import type { FileConfig } from '../../../src/config/schema.js';
import type { TelegramConfig } from '../../../src/config/telegram-config.js';

const TOKEN = '123456789:AAFakeTokenForTestsOnly_abcdefghijk';
const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

function telegramConfig(telegram: NonNullable<NonNullable<FileConfig['channels']>['telegram']>, env: Record<string, string> = {}): TelegramConfig {
  return loadConfig({ env, flags: { stateDir: '/tmp/pincer-none', configPath: undefined }, overrides: { channels: { telegram: { enabled: true, botToken: TOKEN, ...telegram } } } }).channels.telegram;
}
const dm = (senderId: string) => ({ chatType: 'private' as const, chatId: senderId, senderId, addressed: true });
const group = (chatId: string, senderId: string, addressed: boolean) => ({ chatType: 'supergroup' as const, chatId, senderId, addressed });

describe('channels.telegram config', () => {
  it('defaults to pairing, allowlisted groups, partial streaming and 4000-char chunks', () => {
    const config = telegramConfig({});
    assert.equal(config.dmPolicy, 'pairing');
    assert.equal(config.groupPolicy, 'allowlist');
    assert.equal(config.streaming, 'partial');
    assert.equal(config.textChunkLimit, 4000);
    assert.equal(config.apiRoot, 'https://api.telegram.org');
  });

  it('takes the token from TELEGRAM_BOT_TOKEN and normalises tg: prefixes', () => {
    const config = loadConfig({ env: { TELEGRAM_BOT_TOKEN: TOKEN }, flags: { stateDir: '/tmp/pincer-none' }, overrides: { channels: { telegram: { enabled: true, allowFrom: ['tg:42', 'telegram:43', 44 as unknown as string] } } } }).channels.telegram;
    assert.equal(config.botToken, TOKEN);
    assert.deepEqual(config.allowFrom, ['42', '43', '44']);
  });

  it('refuses bad settings naming the field', () => {
    const load = (telegram: Record<string, unknown>, env: Record<string, string> = {}) => () =>
      loadConfig({ env, flags: { stateDir: '/tmp/pincer-none' }, overrides: { channels: { telegram: { enabled: true, ...telegram } as never } } });
    assert.throws(load({}), /channels\.telegram\.botToken.*no bot token/);
    assert.throws(load({ botToken: 'not-a-token' }), /channels\.telegram\.botToken.*123456789/);
    assert.throws(load({ botToken: TOKEN, dmPolicy: 'allowlist' }), /channels\.telegram\.allowFrom.*at least one/);
    assert.throws(load({ botToken: TOKEN, dmPolicy: 'open' }), /channels\.telegram\.allowFrom.*"\*"/);
    assert.throws(load({ botToken: TOKEN, allowFrom: ['@someone'] }), /channels\.telegram\.allowFrom\.0.*numeric/);
    assert.throws(load({ botToken: TOKEN, webhookUrl: 'https://example.com/hook' }), /webhookSecret.*both/);
    assert.throws(load({ botToken: TOKEN, apiRoot: 'http://example.com' }), /apiRoot.*https/);
    assert.throws(load({ botToken: TOKEN, textChunkLimit: 5000 }), /textChunkLimit/);
    assert.throws(load({ botToken: TOKEN, dmScope: 'main' }), /unknown key channels\.telegram\.dmScope/);
  });
});

describe('decideAccess', () => {
  it('pairing: listed or approved senders pass, others are asked to pair', () => {
    const config = telegramConfig({ allowFrom: ['1'] });
    assert.deepEqual(decideAccess(config, dm('1'), () => false), { kind: 'allow' });
    assert.deepEqual(decideAccess(config, dm('2'), (id) => id === '2'), { kind: 'allow' });
    assert.deepEqual(decideAccess(config, dm('3'), () => false), { kind: 'pair' });
  });

  it('allowlist ignores unlisted senders even when approved by pairing; disabled ignores all; open allows all', () => {
    assert.equal(decideAccess(telegramConfig({ dmPolicy: 'allowlist', allowFrom: ['1'] }), dm('2'), () => true).kind, 'ignore');
    assert.equal(decideAccess(telegramConfig({ dmPolicy: 'disabled' }), dm('1'), () => true).kind, 'ignore');
    assert.equal(decideAccess(telegramConfig({ dmPolicy: 'open', allowFrom: ['*'] }), dm('9'), () => false).kind, 'allow');
  });

  it('groups: only configured groups, only allowed senders, only when addressed unless requireMention is off', () => {
    const config = telegramConfig({ allowFrom: ['1'], groups: { '-100': { requireMention: true }, '-200': { requireMention: false, groupPolicy: 'open' } } });
    assert.equal(decideAccess(config, group('-100', '1', true), () => false).kind, 'allow');
    assert.equal(decideAccess(config, group('-100', '1', false), () => false).kind, 'ignore');
    assert.equal(decideAccess(config, group('-100', '2', true), () => true).kind, 'ignore', 'pairing approvals do not count in groups');
    assert.equal(decideAccess(config, group('-200', '2', false), () => false).kind, 'allow');
    assert.equal(decideAccess(config, group('-300', '1', true), () => false).kind, 'ignore');
    assert.equal(decideAccess(telegramConfig({ allowFrom: ['1'] }), group('-100', '1', true), () => false).kind, 'ignore', 'no groups configured');
    assert.equal(decideAccess(telegramConfig({ groupPolicy: 'open' }), group('-5', '7', true), () => false).kind, 'allow');
  });
});

describe('sessionKeyFor', () => {
  it('follows session.dmScope for direct messages and isolates groups', () => {
    const base = { agentId: 'main', chatType: 'private', chatId: '42', senderId: '42' };
    assert.equal(sessionKeyFor({ ...base, dmScope: 'main' }), 'agent:main:main');
    assert.equal(sessionKeyFor({ ...base, dmScope: 'per-peer' }), 'agent:main:direct:42');
    assert.equal(sessionKeyFor({ ...base, dmScope: 'per-channel-peer' }), 'agent:main:telegram:direct:42');
    assert.equal(sessionKeyFor({ ...base, dmScope: 'per-account-channel-peer' }), 'agent:main:telegram:default:direct:42');
    assert.equal(sessionKeyFor({ ...base, dmScope: 'main', chatType: 'supergroup', chatId: '-1001' }), 'agent:main:telegram:group:-1001');
  });
});

describe('pairing store', () => {
  it('hands out unambiguous codes, caps waiting requests, expires them after an hour and persists approvals', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pincer-pairing-'));
    dirs.push(dir);
    let now = 1_000_000;
    const path = join(dir, 'pairing.json');
    const store = await openPairingStore(path, () => now);
    const first = await store.request('1', {});
    assert.equal(first.kind, 'created');
    const code = first.kind === 'created' ? first.code : '';
    assert.equal(code.length, 8);
    for (const char of code) assert.ok(PAIRING_CODE_ALPHABET.includes(char));
    assert.doesNotMatch(PAIRING_CODE_ALPHABET, /[01OI]/);
    assert.deepEqual(await store.request('1', {}), { kind: 'existing', code });
    for (let i = 2; i <= MAX_PENDING_REQUESTS; i++) assert.equal((await store.request(String(i), {})).kind, 'created');
    assert.equal((await store.request('99', {})).kind, 'full');
    now += PAIRING_TTL_MS;
    assert.equal(store.pending().length, 0, 'all expired');
    assert.equal(await store.approve(code), undefined, 'an expired code approves nothing');
    const fresh = await store.request('99', {});
    assert.equal(fresh.kind, 'created');
    const approved = await store.approve(fresh.kind === 'created' ? fresh.code.toLowerCase() : '');
    assert.equal(approved?.senderId, '99');
    const reopened = await openPairingStore(path, () => now);
    assert.equal(reopened.isApproved('99'), true);
    assert.equal(reopened.isApproved('1'), false);
  });
});
