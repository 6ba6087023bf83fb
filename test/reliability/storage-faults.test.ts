/**
 * Issue 6, item 7: a full disk and a read-only state dir, made real with a
 * small tmpfs mount (needs root and mount(2); skipped with the reason
 * otherwise, since chmod does not stop root). chat.send fails with a clear
 * retryable error, nothing acknowledged is lost, reads keep working, and the
 * gateway recovers once space or write access returns.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';

const TMPFS_SIZE = '4m';
const FILL_CHUNK_BYTES = 64 * 1024;
const WAIT_MS = 10_000;
const SESSION = 'agent:main:storage';
/** Bound on sends into a full disk before one must be refused. */
const MAX_SENDS_UNTIL_FULL = 100;

/** Mount a tmpfs at `dir`; the reason it cannot be done, or undefined on success. */
function tryMount(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for a tmpfs mount (chmod cannot make a dir read-only for root)';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `mount not permitted: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
}

describe('storage faults on the state dir', () => {
  let mountDir: string;
  let skipReason: string | undefined;
  let fake: FakeModelServer;
  let gateway: StartedGateway | undefined;
  let client: ProtocolClient | undefined;
  /** User messages in history when the read-only case starts. */
  let expectedBeforeReadOnly: string[] = [];

  before(async () => {
    mountDir = await mkdtemp(join(tmpdir(), 'pincer-tmpfs-'));
    skipReason = tryMount(mountDir);
    fake = await startFakeModelServer({ defaultReply: { text: ['stored', ' reply'] }, zeroDelay: true });
    if (skipReason !== undefined) return;
    gateway = await startGateway({
      stateDir: join(mountDir, 'state'),
      overrides: { provider: { kind: 'openai', baseUrl: fake.url, apiKey: 'k', model: 'fake-model', timeoutMs: 10_000, maxRetries: 0 } },
    });
    client = await ProtocolClient.open(gateway.wsUrl);
    assert.equal((await client.connect({ token: gateway.token })).ok, true);
  });
  after(async () => {
    await client?.close();
    if (skipReason === undefined) execFileSync('mount', ['-o', 'remount,rw', mountDir], { stdio: 'pipe' });
    await gateway?.close();
    if (skipReason === undefined) execFileSync('umount', [mountDir], { stdio: 'pipe' });
    await rm(mountDir, { recursive: true, force: true });
    await fake.close();
  });

  async function send(key: string): Promise<{ ok: boolean; error?: any }> {
    const res = await client!.request('chat.send', { sessionKey: SESSION, message: `message ${key}`, idempotencyKey: key }, { timeoutMs: WAIT_MS });
    if (res.ok) {
      await client!.waitFor((f) => f.event === 'chat' && f.payload?.runId === key && f.payload?.state !== 'delta', WAIT_MS, `end of ${key}`);
    }
    return res;
  }

  async function userTexts(): Promise<string[]> {
    const res = await client!.request('chat.history', { sessionKey: SESSION });
    assert.equal(res.ok, true, `chat.history failed: ${JSON.stringify(res.error)}`);
    return res.payload.messages.filter((m: any) => m.role === 'user').map((m: any) => m.content[0].text);
  }

  function assertRetryableStorageError(res: { ok: boolean; error?: any }, condition: RegExp): void {
    assert.equal(res.ok, false, 'the send was acknowledged although nothing could be stored');
    assert.equal(res.error.code, 'UNAVAILABLE');
    assert.equal(res.error.retryable, true);
    assert.ok(res.error.retryAfterMs > 0);
    assert.match(res.error.message, condition);
    assert.doesNotMatch(res.error.message, new RegExp(mountDir), 'no file paths in client errors');
  }

  it('refuses chat.send on a full disk, keeps reads working, and recovers when space returns', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    assert.equal((await send('before-full')).ok, true);
    const filler = join(mountDir, 'filler');
    const handle = await open(filler, 'w');
    try {
      for (let i = 0; i < 1_000; i++) await handle.write(Buffer.alloc(FILL_CHUNK_BYTES, 1));
      assert.fail('the tmpfs never filled up');
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      await handle.close();
    }
    // Appends that fit in the session file's last page still succeed on a full tmpfs, and are acknowledged
    // rightly: send until the first refusal.
    const acked = ['message before-full'];
    let refused: { key: string; res: { ok: boolean; error?: any } } | undefined;
    for (let i = 0; i < MAX_SENDS_UNTIL_FULL && refused === undefined; i++) {
      const res = await send(`full-${i}`);
      if (res.ok) acked.push(`message full-${i}`);
      else refused = { key: `full-${i}`, res };
    }
    assert.ok(refused !== undefined, `no refusal after ${MAX_SENDS_UNTIL_FULL} sends on a full disk`);
    assertRetryableStorageError(refused.res, /disk is full/);
    assert.deepEqual(await userTexts(), acked, 'reads work and hold exactly the acknowledged messages');

    await rm(filler);
    assert.equal((await send(refused.key)).ok, true, 'the same key succeeds once space is back');
    assert.deepEqual(await userTexts(), [...acked, `message ${refused.key}`]);
    expectedBeforeReadOnly = [...acked, `message ${refused.key}`];
  });

  it('refuses chat.send on a read-only state dir, keeps reads working, and recovers when it is writable again', async (t) => {
    if (skipReason !== undefined) return t.skip(skipReason);
    execFileSync('mount', ['-o', 'remount,ro', mountDir], { stdio: 'pipe' });
    try {
      assertRetryableStorageError(await send('while-ro'), /read-only/);
      assert.deepEqual(await userTexts(), expectedBeforeReadOnly);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mountDir], { stdio: 'pipe' });
    }
    assert.equal((await send('while-ro')).ok, true);
    assert.deepEqual(await userTexts(), [...expectedBeforeReadOnly, 'message while-ro']);
    const history = await client!.request('chat.history', { sessionKey: SESSION });
    const last = history.payload.messages.at(-1);
    assert.equal(last.role, 'assistant');
    assert.equal(last.content[0].text, 'stored reply');
  });
});
