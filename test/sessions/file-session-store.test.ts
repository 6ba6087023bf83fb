import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FileSessionStore } from '../../src/sessions/file-session-store.js';
import { sessionFileName } from '../../src/sessions/session-key.js';
import { decodeRecord } from '../../src/sessions/session-records.js';
import type { StoredMessage } from '../../src/sessions/types.js';
import { useTempStores } from './fixtures/temp-stores.js';
import { assistantMessage, captureLogger, userMessage } from './fixtures/messages.js';

const MAIN = 'agent:main:main';
const OTHER = 'agent:main:other';

const { newDir, openStore } = useTempStores('pincer-sessions-');

async function reopen(store: FileSessionStore, dir: string, logger = captureLogger()): Promise<FileSessionStore> {
  await store.close();
  return openStore(dir, logger);
}

/** Every line of a session file must be a valid record. */
async function assertFileClean(dir: string, key: string): Promise<void> {
  const text = await fs.readFile(join(dir, sessionFileName(key)), 'utf8');
  assert.ok(text.endsWith('\n'), 'file ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) assert.ok(decodeRecord(line).ok, `valid line: ${line.slice(0, 80)}`);
}

async function fillMain(store: FileSessionStore, count: number): Promise<StoredMessage[]> {
  const messages: StoredMessage[] = [];
  for (let i = 0; i < count; i++) {
    const message =
      i % 2 === 0
        ? userMessage(`u${i}`, `question ${i}`, { idempotencyKey: `idem-${i}:user` })
        : assistantMessage(`a${i}`, `answer ${i}`, { input: 3, output: 5, totalTokens: 8 }, `run-${i}`);
    await store.append(MAIN, message);
    messages.push(message);
  }
  return messages;
}

describe('FileSessionStore', () => {
  it('writes, reopens and reads back the same messages and meta', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    const messages = await fillMain(store, 6);
    await store.setLabel(MAIN, 'My chat');
    const before = store.get(MAIN);
    assert.ok(before);
    assert.equal(before.messageCount, 6);
    assert.equal(before.inputTokens, 9);
    assert.equal(before.outputTokens, 15);
    assert.equal(before.totalTokens, 24);
    assert.equal(before.derivedTitle, 'question 0');
    assert.equal(before.lastRunId, 'run-5');
    assert.equal(before.label, 'My chat');
    assert.equal(before.agentId, 'main');

    store = await reopen(store, dir);
    assert.deepEqual(store.get(MAIN), before);
    const page = await store.history(MAIN);
    assert.deepEqual(page, { messages, hasMore: false, totalMessages: 6 });
    await assertFileClean(dir, MAIN);
  });

  it('creates the directory 0700 and files 0600, named by the key hash', async () => {
    const dir = newDir();
    const store = await openStore(dir);
    await store.ensure(MAIN);
    await store.close();
    assert.equal((await fs.stat(dir)).mode & 0o777, 0o700);
    const names = (await fs.readdir(dir)).sort();
    assert.deepEqual(names, [sessionFileName(MAIN), 'index.json'].sort());
    for (const name of names) assert.equal((await fs.stat(join(dir, name))).mode & 0o777, 0o600, name);
  });

  it('ensure creates a session once and list sorts by updatedAt', async () => {
    const dir = newDir();
    const store = await openStore(dir);
    const first = await store.ensure(MAIN);
    assert.equal(first.messageCount, 0);
    assert.equal(first.derivedTitle, null);
    assert.equal((await store.ensure(MAIN)).sessionId, first.sessionId);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.append(OTHER, userMessage('o1', 'hi'));
    assert.deepEqual(
      store.list().map((meta) => meta.key),
      [OTHER, MAIN],
    );
    assert.equal(store.get('agent:main:nope'), undefined);
  });

  it('rejects non-canonical keys and invalid messages without writing', async () => {
    const dir = newDir();
    const store = await openStore(dir);
    await assert.rejects(store.append('main', userMessage('u', 'x')), /invalid session key/);
    await assert.rejects(store.ensure('agent:main:../x'), /invalid session key/);
    await assert.rejects(
      store.append(MAIN, { ...userMessage('u', 'x'), timestamp: Number.NaN }),
      /refusing to write an invalid message record/,
    );
    assert.equal((await store.history(MAIN)).totalMessages, 0);
    await store.append(MAIN, userMessage('u', 'fine'));
    await assertFileClean(dir, MAIN);
  });

  it('stores a message larger than a write buffer, with every kind of character, and reads it back exact', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    // 3 MB of text whose slice and buffer boundaries fall on pairs, escapes and multi-byte characters.
    const alphabet = ['a', 'é', '€', '😀', '"', '\\', '\n', '\u0001', 'z'];
    const parts: string[] = [];
    for (let i = 0; i < 1_000_000; i++) parts.push(alphabet[(i * 7) % alphabet.length]!);
    const text = parts.join('');
    const message = assistantMessage('big', text, { input: 1, output: 2, totalTokens: 3 }, 'run-big');
    await store.append(MAIN, message);
    // A huge record is checked like any other before it is written.
    await assert.rejects(
      store.append(MAIN, { ...assistantMessage('bad', text, { input: 1, output: 2, totalTokens: 3 }, 'run-bad'), timestamp: Number.NaN }),
      /refusing to write an invalid message record/,
    );
    store = await reopen(store, dir);
    const [stored] = (await store.history(MAIN)).messages;
    assert.equal(stored?.id, 'big');
    assert.ok(stored?.content[0]?.type === 'text' && stored.content[0].text === text, 'the text reads back byte for byte');
    await assertFileClean(dir, MAIN);
  });

  it('keeps a checkpoint given as pieces, durably and whole, until the run closes', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    await store.append(MAIN, userMessage('u1', 'stream, please', { runId: 'r1' }));
    await store.checkpoint(MAIN, 'r1', ['Hel', 'lo', ', ']);
    await store.checkpoint(MAIN, 'r1', 'world');
    assert.equal(await store.partialReply(MAIN, 'r1'), 'Hello, world');
    store = await reopen(store, dir);
    assert.equal(await store.partialReply(MAIN, 'r1'), 'Hello, world');
    await store.append(MAIN, assistantMessage('a1', 'Hello, world!', { input: 1, output: 2, totalTokens: 3 }, 'r1'));
    assert.equal(await store.partialReply(MAIN, 'r1'), undefined);
    await assertFileClean(dir, MAIN);
  });

  it('sets and clears the label durably', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    assert.equal((await store.setLabel(OTHER, 'Peer capture')).label, 'Peer capture');
    store = await reopen(store, dir);
    assert.equal(store.get(OTHER)?.label, 'Peer capture');
    assert.equal((await store.setLabel(OTHER, null)).label, null);
    store = await reopen(store, dir);
    assert.equal(store.get(OTHER)?.label, null);
  });

  it('pages history by limit and before', async () => {
    const dir = newDir();
    const store = await openStore(dir);
    const messages = await fillMain(store, 10);
    const ids = (page: { messages: StoredMessage[] }) => page.messages.map((m) => m.id);

    const newest = await store.history(MAIN, { limit: 3 });
    assert.deepEqual(ids(newest), ['a7', 'u8', 'a9']);
    assert.equal(newest.hasMore, true);
    assert.equal(newest.totalMessages, 10);

    const older = await store.history(MAIN, { limit: 3, before: 'a7' });
    assert.deepEqual(ids(older), ['u4', 'a5', 'u6']);
    assert.equal(older.hasMore, true);

    const oldest = await store.history(MAIN, { limit: 3, before: 'a3' });
    assert.deepEqual(ids(oldest), ['u0', 'a1', 'u2']);
    assert.equal(oldest.hasMore, false);

    assert.deepEqual(ids(await store.history(MAIN, { before: 'u2' })), ['u0', 'a1']);
    assert.deepEqual(ids(await store.history(MAIN, { limit: 100 })), messages.map((m) => m.id));
    assert.deepEqual(await store.history(MAIN, { limit: 0 }), { messages: [], hasMore: true, totalMessages: 10 });
    assert.deepEqual(await store.history(MAIN, { before: 'no-such-id' }), { messages: [], hasMore: false, totalMessages: 10 });
    assert.deepEqual(await store.history('agent:main:unknown'), { messages: [], hasMore: false, totalMessages: 0 });
  });

  it('resets atomically: no messages, same sessionId and label, also after reopen', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    await fillMain(store, 4);
    await store.setLabel(MAIN, 'kept');
    const { sessionId, createdAt } = store.get(MAIN)!;
    assert.equal(await store.reset(MAIN), true);
    assert.equal(await store.reset('agent:main:unknown'), false);

    const check = async (s: FileSessionStore) => {
      const meta = s.get(MAIN)!;
      assert.equal(meta.sessionId, sessionId);
      assert.equal(meta.createdAt, createdAt);
      assert.equal(meta.label, 'kept');
      assert.equal(meta.messageCount, 0);
      assert.equal(meta.totalTokens, 0);
      assert.equal(meta.derivedTitle, null);
      assert.deepEqual(await s.history(MAIN), { messages: [], hasMore: false, totalMessages: 0 });
    };
    await check(store);
    store = await reopen(store, dir);
    await check(store);

    await store.append(MAIN, userMessage('after', 'after reset'));
    store = await reopen(store, dir);
    assert.deepEqual((await store.history(MAIN)).messages.map((m) => m.id), ['after']);
    assert.equal(store.get(MAIN)?.derivedTitle, 'after reset');
    const leftovers = (await fs.readdir(dir)).filter((name) => name.endsWith('.tmp'));
    assert.deepEqual(leftovers, []);
  });

  it('deletes the file and the session, durably', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    await fillMain(store, 2);
    await store.append(OTHER, userMessage('o', 'other'));
    const oldId = store.get(MAIN)!.sessionId;
    assert.equal(await store.delete(MAIN), true);
    assert.equal(await store.delete(MAIN), false);
    assert.equal(store.get(MAIN), undefined);
    await assert.rejects(fs.stat(join(dir, sessionFileName(MAIN))), { code: 'ENOENT' });

    store = await reopen(store, dir);
    assert.deepEqual(
      store.list().map((m) => m.key),
      [OTHER],
    );
    const recreated = await store.append(MAIN, userMessage('n', 'new'));
    assert.notEqual(recreated.sessionId, oldId);
    assert.equal(recreated.messageCount, 1);
  });

  it('rebuilds a deleted index from the files, hiding nothing', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    for (let i = 0; i < 20; i++) await store.append(`agent:main:s${i}`, userMessage(`m${i}`, `text ${i}`));
    await store.setLabel('agent:main:s3', 'three');
    const before = store.list();
    await store.close();
    await fs.rm(join(dir, 'index.json'));

    const logger = captureLogger();
    store = await openStore(dir, logger);
    assert.deepEqual(store.list(), before);
    assert.ok(logger.warnings.some((w) => /index is missing/.test(w.msg)));
    assert.ok((await fs.stat(join(dir, 'index.json'))).isFile(), 'index rewritten');
  });

  it('keeps the open runs of every session exact through appends, the index and a rebuild', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    for (let i = 0; i < 3; i++) await store.append(`agent:main:r${i}`, userMessage(`u${i}`, 'q', { runId: `run-${i}` }));
    await store.append('agent:main:r1', assistantMessage('t1', 'calling', { input: 1, output: 1, totalTokens: 2 }, 'run-1'));
    const toolUse = { ...assistantMessage('t2', '', { input: 1, output: 1, totalTokens: 2 }, 'run-2'), stopReason: 'toolUse' as const };
    await store.append('agent:main:r2', toolUse);
    const expected = [
      { sessionKey: 'agent:main:r0', runIds: ['run-0'] },
      { sessionKey: 'agent:main:r2', runIds: ['run-2'] },
    ];
    const sorted = (s: FileSessionStore) => s.openRuns().sort((a, b) => a.sessionKey.localeCompare(b.sessionKey));
    assert.deepEqual(sorted(store), expected, 'a toolUse row does not close its run');

    store = await reopen(store, dir);
    assert.deepEqual(sorted(store), expected, 'from the index');
    await store.close();
    await fs.rm(join(dir, 'index.json'));
    store = await openStore(dir);
    assert.deepEqual(sorted(store), expected, 'from the files');
    await store.reset('agent:main:r0');
    assert.deepEqual(sorted(store), expected.slice(1), 'a reset closes nothing but forgets the rows');
    await store.close();
  });

  it('rebuilds a corrupt index', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    await fillMain(store, 3);
    const before = store.list();
    await store.close();
    await fs.writeFile(join(dir, 'index.json'), '{"version":1,"sessions":{"x":');
    const logger = captureLogger();
    store = await openStore(dir, logger);
    assert.deepEqual(store.list(), before);
    assert.ok(logger.warnings.some((w) => /index is corrupt/.test(w.msg)));
  });

  it('ignores stale index entries and finds sessions missing from the index', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    await fillMain(store, 2);
    await store.append(OTHER, userMessage('o1', 'first'));
    await store.close();
    const oldIndex = await fs.readFile(join(dir, 'index.json'));

    store = await openStore(dir);
    await fillMain(store, 1); // u0 again: already stored, so not written twice
    await store.append(MAIN, userMessage('late', 'late'));
    await store.append('agent:main:new', userMessage('n1', 'new'));
    assert.equal(await store.delete(OTHER), true);
    const expected = store.list();
    await store.close();
    await fs.writeFile(join(dir, 'index.json'), oldIndex);

    store = await openStore(dir);
    assert.deepEqual(store.list(), expected);
    assert.deepEqual(
      (await store.history(MAIN)).messages.map((m) => m.id),
      ['u0', 'a1', 'late'],
    );
  });

  it('trusts a valid index at open without parsing the files', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    await fillMain(store, 2);
    await store.close();
    const indexPath = join(dir, 'index.json');
    const index = JSON.parse(await fs.readFile(indexPath, 'utf8'));
    index.sessions[sessionFileName(MAIN)].meta.label = 'from the index';
    await fs.writeFile(indexPath, JSON.stringify(index));
    store = await openStore(dir);
    assert.equal(store.get(MAIN)?.label, 'from the index');
    // Reading the history parses the file, which is the source of truth.
    await store.history(MAIN);
    assert.equal(store.get(MAIN)?.label, null);
  });

  it('skips a torn last line with a warning, and later appends start on a fresh line', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    const messages = await fillMain(store, 3);
    await store.close();
    const path = join(dir, sessionFileName(MAIN));
    await fs.appendFile(path, '{"type":"message","at":17,"message":{"id":"torn","ro');

    let logger = captureLogger();
    store = await openStore(dir, logger);
    assert.ok(logger.warnings.some((w) => /torn last line/.test(String(w.obj.reason))), 'torn line warned');
    assert.deepEqual((await store.history(MAIN)).messages, messages);
    const next = userMessage('next', 'after the tear');
    await store.append(MAIN, next);
    await assertFileClean(dir, MAIN);

    logger = captureLogger();
    await store.close();
    await fs.rm(join(dir, 'index.json'));
    store = await openStore(dir, logger);
    assert.deepEqual((await store.history(MAIN)).messages, [...messages, next]);
    assert.ok(!logger.warnings.some((w) => w.msg.includes('damaged')), 'no damage left');
  });

  it('keeps a complete last record without newline and appends after it', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    const messages = await fillMain(store, 2);
    await store.close();
    const path = join(dir, sessionFileName(MAIN));
    const text = await fs.readFile(path, 'utf8');
    await fs.writeFile(path, text.slice(0, -1));
    store = await openStore(dir);
    await store.append(MAIN, userMessage('third', 'third'));
    await assertFileClean(dir, MAIN);
    store = await reopen(store, dir);
    assert.deepEqual(
      (await store.history(MAIN)).messages.map((m) => m.id),
      [...messages.map((m) => m.id), 'third'],
    );
  });

  it('moves an unreadable file aside instead of failing or deleting it', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    await store.append(OTHER, userMessage('o', 'ok'));
    await store.close();
    await fs.writeFile(join(dir, sessionFileName(MAIN)), 'garbage header\n');
    await fs.rm(join(dir, 'index.json'));
    const logger = captureLogger();
    store = await openStore(dir, logger);
    assert.deepEqual(
      store.list().map((m) => m.key),
      [OTHER],
    );
    assert.ok(logger.warnings.some((w) => /moved aside/.test(w.msg)));
    const names = await fs.readdir(dir);
    assert.ok(names.some((name) => name.startsWith(`${sessionFileName(MAIN)}.unreadable-`)));
  });

  it('serialises concurrent appends to one session without interleaving', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    const messages = Array.from({ length: 150 }, (_, i) => userMessage(`c${i}`, `${i}:`.padEnd(1 + ((i * 7919) % 60_000), 'x')));
    await Promise.all([...messages.map((m) => store.append(MAIN, m)), store.setLabel(MAIN, 'busy')]);
    await assertFileClean(dir, MAIN);
    assert.equal(store.get(MAIN)?.messageCount, 150);
    store = await reopen(store, dir);
    assert.deepEqual((await store.history(MAIN)).messages, messages);
    assert.equal(store.get(MAIN)?.label, 'busy');
  });

  it('does not store a message id twice (retried appends are harmless)', async () => {
    const dir = newDir();
    let store = await openStore(dir);
    const message = userMessage('dup', 'once');
    await store.append(MAIN, message);
    store = await reopen(store, dir); // the check also works once the cache is cold
    const meta = await store.append(MAIN, { ...message, content: [{ type: 'text', text: 'twice' }] });
    assert.equal(meta.messageCount, 1);
    assert.deepEqual((await store.history(MAIN)).messages, [message]);
    const lines = (await fs.readFile(join(dir, sessionFileName(MAIN)), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 3, 'header, its copy and one message');
  });

  it('reloads evicted histories from disk', async () => {
    const dir = newDir();
    const store = await openStore(dir);
    for (let i = 0; i < 40; i++) await store.append(`agent:main:lru-${i}`, userMessage(`l${i}`, `lru ${i}`));
    await fillMain(store, 4);
    for (let i = 0; i < 40; i++) {
      const page = await store.history(`agent:main:lru-${i}`);
      assert.deepEqual(
        page.messages.map((m) => m.id),
        [`l${i}`],
      );
    }
  });

  it('refuses use before open and after close', async () => {
    const dir = newDir();
    const store = new FileSessionStore({ dir, logger: captureLogger() });
    assert.throws(() => store.list(), /not open/);
    await store.open();
    await store.close();
    assert.throws(() => store.list(), /closed/);
    await assert.rejects(store.append(MAIN, userMessage('x', 'x')), /closed/);
  });
});
