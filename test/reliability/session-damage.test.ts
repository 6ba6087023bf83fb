/**
 * Issue 13, items 4 and 5, with the real gateway process and real files.
 * (4) A session file truncated mid-line or to 0 bytes, replaced or deleted
 * under a running gateway is not appended to: the next append keeps every
 * record the gateway knew, moves the damaged file aside and writes a clean
 * one, so 3 messages acknowledged after the damage are all there after a
 * SIGKILL and restart. (5) A garbled line in the middle hides only itself (a
 * placeholder row), its run is not reported as interrupted, and a garbled
 * header keeps the session's records reachable under its key.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rename, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sessionFileName } from '../../src/sessions/session-key.js';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import type { ProtocolClient } from '../helpers/protocol-client.js';
import { writeSessionFile } from '../helpers/session-files.js';
import { makeTempHome } from '../helpers/spawn-cli.js';
import { connectChild, killChild, readHistory, rowText, startGatewayChild, type GatewayChild, type HistoryRow } from './gateway-process.js';

const WAIT_MS = 20_000;
const TURNS_BEFORE = 4;
const SENDS_AFTER = 3;

type Damage = 'truncated mid-line' | 'truncated to 0 bytes' | 'replaced' | 'deleted';
const DAMAGES: Damage[] = ['truncated mid-line', 'truncated to 0 bytes', 'replaced', 'deleted'];

describe('session files damaged on disk', { timeout: 180_000 }, () => {
  let fake: FakeModelServer;
  let home: string;
  let stateDir: string;
  let sessionsDir: string;
  let child: GatewayChild | undefined;
  const clients: ProtocolClient[] = [];

  before(async () => {
    fake = await startFakeModelServer({ defaultReply: { text: ['fine ', 'answer'] } });
    home = await makeTempHome();
    stateDir = await mkdtemp(join(tmpdir(), 'pincer-damage-'));
    sessionsDir = join(stateDir, 'sessions');
  });

  after(async () => {
    for (const client of clients) client.ws.terminate();
    child?.cli.kill();
    await fake.close();
    await rm(home, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  const start = async (): Promise<ProtocolClient> => {
    child = await startGatewayChild({ home, stateDir, modelUrl: fake.url });
    const client = await connectChild(child);
    clients.push(client);
    return client;
  };

  async function sendAndWait(client: ProtocolClient, sessionKey: string, key: string, text: string): Promise<void> {
    const res = await client.request('chat.send', { sessionKey, message: text, idempotencyKey: key }, { timeoutMs: WAIT_MS });
    assert.equal(res.ok, true, `chat.send ${key}: ${JSON.stringify(res.error)}`);
    const wait = await client.request('agent.wait', { runId: key, timeoutMs: WAIT_MS }, { timeoutMs: WAIT_MS + 5_000 });
    assert.equal(wait.payload?.status, 'ok', `run ${key}: ${JSON.stringify(wait.payload ?? wait.error)}`);
  }

  it(`keeps every known record and all ${SENDS_AFTER} later messages when a file is ${DAMAGES.join(', ')} under the running gateway`, async () => {
    const client = await start();
    const keyOf = (damage: Damage): string => `agent:main:damage-${damage.replace(/[^a-z0-9]+/g, '-')}`;
    for (const damage of DAMAGES) {
      for (let turn = 0; turn < TURNS_BEFORE; turn++) await sendAndWait(client, keyOf(damage), `${keyOf(damage)}-before-${turn}`, `before ${turn}`);
    }
    for (const damage of DAMAGES) {
      const path = join(sessionsDir, sessionFileName(keyOf(damage)));
      const size = (await readFile(path)).length;
      if (damage === 'truncated mid-line') await truncate(path, size - 40);
      else if (damage === 'truncated to 0 bytes') await truncate(path, 0);
      else if (damage === 'replaced') await writeFile(path + '.new', 'not a session\n').then(() => rename(path + '.new', path));
      else await unlink(path);
    }
    for (const damage of DAMAGES) {
      for (let i = 0; i < SENDS_AFTER; i++) await sendAndWait(client, keyOf(damage), `${keyOf(damage)}-after-${i}`, `after ${i}`);
    }
    await killChild(child!);

    const checker = await start();
    const figures: string[] = [];
    for (const damage of DAMAGES) {
      const rows = await readHistory(checker, keyOf(damage));
      const users = (prefix: string) => rows.filter((m) => m.role === 'user' && m.__openclaw.idempotencyKey?.startsWith(`${keyOf(damage)}-${prefix}`));
      const after = users('after').length;
      const before = users('before').length;
      figures.push(`${damage}: ${after}/${SENDS_AFTER} later messages, ${rows.length}/${(TURNS_BEFORE + SENDS_AFTER) * 2} records kept`);
      assert.equal(after, SENDS_AFTER, `${damage}: every message acknowledged after the damage survives`);
      assert.equal(before, TURNS_BEFORE, `${damage}: every message the gateway knew is kept`);
      assert.equal(rows.length, (TURNS_BEFORE + SENDS_AFTER) * 2, `${damage}: questions and replies, once each`);
    }
    const aside = (await readdir(sessionsDir)).filter((name) => name.includes('.damaged-'));
    console.log(`damaged files: ${figures.join('; ')}; ${aside.length} damaged files kept aside`);
    assert.equal(aside.length, DAMAGES.length - 1, 'each damaged file is kept aside (a deleted one has nothing to keep)');
  });

  it('hides only a garbled line, and keeps a session whose header line is garbled', async () => {
    const client = clients.at(-1)!;
    const key = 'agent:main:garbled';
    const turns = 8;
    for (let turn = 0; turn < turns; turn++) await sendAndWait(client, key, `garbled-${turn}`, `question ${turn}`);
    // A session written before header copies existed: only index.json still knows its header.
    const old = 'agent:main:garbled-old';
    await writeSessionFile(sessionsDir, { key: old, turns: 7 });
    child!.cli.child.kill('SIGTERM');
    assert.equal((await child!.cli.waitForExit(WAIT_MS)).code, 0);
    // Let a first start index the old file.
    await start();
    child!.cli.child.kill('SIGTERM');
    assert.equal((await child!.cli.waitForExit(WAIT_MS)).code, 0);

    for (const sessionKey of [key, old]) {
      const path = join(sessionsDir, sessionFileName(sessionKey));
      const lines = (await readFile(path, 'utf8')).split('\n');
      const replyLine = lines.findIndex((line) => line.includes('"role":"assistant"') && line.includes('-3"'));
      const target = replyLine > 0 ? replyLine : lines.findIndex((line, i) => i > 2 && line.includes('"role":"assistant"'));
      lines[0] = garble(lines[0]!);
      lines[target] = garble(lines[target]!);
      await writeFile(path, lines.join('\n'));
    }

    const checker = await start();
    const rows = await readHistory(checker, key);
    const olds = await readHistory(checker, old);
    const placeholders = (list: HistoryRow[]) => list.filter((m) => /could not be read/.test(rowText(m)));
    const interrupted = (list: HistoryRow[]) => list.filter((m) => m.stopReason === 'interrupted');
    console.log(
      `garbled lines: ${rows.length}/${turns * 2} rows readable with a garbled header and reply (${placeholders(rows).length} placeholder), ` +
        `${olds.length}/14 for a file without a header copy (${placeholders(olds).length} placeholder); ${interrupted(rows).length + interrupted(olds).length} runs reported interrupted`,
    );
    assert.equal(rows.length, turns * 2, 'every row is there, the damaged one as a placeholder');
    assert.equal(placeholders(rows).length, 1);
    assert.equal(olds.length, 14);
    assert.equal(placeholders(olds).length, 1);
    assert.equal(interrupted(rows).length + interrupted(olds).length, 0, 'a run whose reply line is damaged is not taken for one cut by a crash');
    assert.equal((await readdir(sessionsDir)).filter((name) => name.includes('.unreadable-')).length, 0, 'no file moved aside');
  });
});

/** Break a line's JSON in its middle, keeping its length and the runId near its end. */
function garble(line: string): string {
  const middle = Math.floor(line.length / 3);
  return `${line.slice(0, middle)}\u0000#garbled#${line.slice(middle + 10)}`;
}
