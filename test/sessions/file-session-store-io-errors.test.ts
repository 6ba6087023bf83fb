import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FileSessionStore } from '../../src/sessions/file-session-store.js';
import { sessionFileName } from '../../src/sessions/session-key.js';
import { useTempStores } from './fixtures/temp-stores.js';
import { captureLogger, userMessage } from './fixtures/messages.js';

const MAIN = 'agent:main:main';
const BROKEN = 'agent:main:broken';

const { newDir, openStore } = useTempStores('pincer-sessions-io-');

/** A store holding MAIN and BROKEN, closed again, with both files on disk. */
async function seedTwoSessions(dir: string): Promise<void> {
  const store = await openStore(dir);
  await store.append(MAIN, userMessage('m1', 'kept'));
  await store.append(BROKEN, userMessage('b1', 'hidden for now'));
  await store.close();
}

describe('FileSessionStore with files it cannot read', () => {
  it('opens past a session path that cannot be read, warns, and leaves it in place', async () => {
    const dir = newDir();
    await seedTwoSessions(dir);
    const brokenPath = join(dir, sessionFileName(BROKEN));
    const saved = await fs.readFile(brokenPath);
    // Root can read any file, so stand in for an unreadable one with a directory of that name.
    await fs.rm(brokenPath);
    await fs.mkdir(brokenPath);

    const logger = captureLogger();
    const store = await openStore(dir, logger);
    assert.deepEqual(
      store.list().map((meta) => meta.key),
      [MAIN],
    );
    assert.equal((await store.history(MAIN)).messages[0]?.id, 'm1');
    const warning = logger.warnings.find((w) => w.obj.file === sessionFileName(BROKEN));
    assert.ok(warning, `a warning names the file: ${JSON.stringify(logger.warnings)}`);
    assert.match(String(warning.obj.reason), /EISDIR|directory/i);
    assert.ok((await fs.stat(brokenPath)).isDirectory(), 'left where it was');

    // Writing to the unreadable session fails clearly and does not replace what is there.
    await assert.rejects(store.append(BROKEN, userMessage('b2', 'new')), /cannot be read/);
    assert.ok((await fs.stat(brokenPath)).isDirectory(), 'still left where it was');
    assert.equal(store.get(BROKEN), undefined);
    await store.append(MAIN, userMessage('m2', 'still writable'));

    // Once readable again, the next open lists it with its messages.
    await store.close();
    await fs.rmdir(brokenPath);
    await fs.writeFile(brokenPath, saved);
    const reopened = await openStore(dir);
    assert.deepEqual(reopened.list().map((meta) => meta.key).sort(), [BROKEN, MAIN].sort());
    assert.deepEqual(
      (await reopened.history(BROKEN)).messages.map((m) => m.id),
      ['b1'],
    );
    assert.equal((await reopened.history(MAIN)).totalMessages, 2);
  });

  it('adopts a once-unreadable session file on the next write once it can be read', async () => {
    const dir = newDir();
    await seedTwoSessions(dir);
    const brokenPath = join(dir, sessionFileName(BROKEN));
    const saved = await fs.readFile(brokenPath);
    await fs.rm(brokenPath);
    await fs.mkdir(brokenPath);
    const store = await openStore(dir);
    assert.equal(store.get(BROKEN), undefined);

    await fs.rmdir(brokenPath);
    await fs.writeFile(brokenPath, saved);
    await store.append(BROKEN, userMessage('b2', 'after repair'));
    assert.deepEqual(
      (await store.history(BROKEN)).messages.map((m) => m.id),
      ['b1', 'b2'],
    );
  });

  it('opens past a dangling symlink named like a session file and keeps the link', async () => {
    const dir = newDir();
    await seedTwoSessions(dir);
    const brokenPath = join(dir, sessionFileName(BROKEN));
    await fs.rm(brokenPath);
    await fs.symlink(join(dir, '..', 'no-such-target.jsonl'), brokenPath);

    const logger = captureLogger();
    const store = await openStore(dir, logger);
    assert.deepEqual(
      store.list().map((meta) => meta.key),
      [MAIN],
    );
    assert.ok(logger.warnings.some((w) => w.obj.file === sessionFileName(BROKEN) && /ENOENT/.test(String(w.obj.reason))));
    await assert.rejects(store.ensure(BROKEN), /cannot be read/);
    assert.ok((await fs.lstat(brokenPath)).isSymbolicLink(), 'the link is left in place');
  });
});

describe('FileSessionStore when a session file is deleted behind its back', () => {
  it('recreates the session on the next append with every message it knew, and keeps working', async () => {
    const dir = newDir();
    const logger = captureLogger();
    const store = await openStore(dir, logger);
    await store.append(MAIN, userMessage('m1', 'before'));
    await fs.rm(join(dir, sessionFileName(MAIN)));

    await store.append(MAIN, userMessage('m2', 'after'));
    await store.append(MAIN, userMessage('m3', 'later'));
    // Issue 13, item 4: a file deleted under a running store comes back with what the store knew.
    assert.deepEqual(
      (await store.history(MAIN)).messages.map((m) => m.id),
      ['m1', 'm2', 'm3'],
    );
    assert.ok(logger.warnings.some((w) => w.obj.file === sessionFileName(MAIN)), 'the loss is logged');

    await store.close();
    const reopened = await openStore(dir);
    assert.deepEqual(
      (await reopened.history(MAIN)).messages.map((m) => m.id),
      ['m1', 'm2', 'm3'],
    );
    assert.equal(reopened.get(MAIN)?.messageCount, 3);
  });

  it('recreates the session after its file vanished while its history was not in memory', async () => {
    const dir = newDir();
    const store = await openStore(dir);
    await store.append(MAIN, userMessage('m1', 'before'));
    await store.close();
    // A fresh store trusts the index and has not read the file yet.
    const reopened = await openStore(dir);
    await fs.rm(join(dir, sessionFileName(MAIN)));
    assert.equal((await reopened.history(MAIN)).totalMessages, 0);
    await reopened.setLabel(MAIN, 'back');
    await reopened.append(MAIN, userMessage('m2', 'after'));
    assert.equal(reopened.get(MAIN)?.label, 'back');
    assert.deepEqual(
      (await reopened.history(MAIN)).messages.map((m) => m.id),
      ['m2'],
    );
  });

  it('recreates the sessions directory when it was removed', async () => {
    const dir = newDir();
    const store = await openStore(dir);
    await store.append(MAIN, userMessage('m1', 'before'));
    await fs.rm(dir, { recursive: true });

    await store.append(MAIN, userMessage('m2', 'after'));
    await store.append(BROKEN, userMessage('o1', 'another'));
    await store.close();
    const reopened = await openStore(dir);
    assert.deepEqual(reopened.list().map((meta) => meta.key).sort(), [BROKEN, MAIN].sort());
    assert.equal((await fs.stat(dir)).mode & 0o777, 0o700);
  });
});
