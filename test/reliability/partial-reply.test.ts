/**
 * Issue 13, item 3: what a user saw stream is not lost in a crash. A reply
 * streams to a watching client; the gateway is SIGKILLed mid-stream. After
 * the restart, chat.history holds the run's reply as checkpointed (about once
 * a second), marked interrupted: a prefix of what the client saw, short of it
 * by at most the last interval or so.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import type { AnyFrame, ProtocolClient } from '../helpers/protocol-client.js';
import { makeTempHome } from '../helpers/spawn-cli.js';
import { connectChild, killChild, readHistory, rowText, startGatewayChild, type GatewayChild } from './gateway-process.js';

const WAIT_MS = 20_000;
const CHUNKS = 300;
const CHUNK_DELAY_MS = 20;
/** Each chunk is 10 characters: `chunk-NNN `. */
const CHUNK_CHARS = 10;
/** Kill once the client has seen this much (about 4 s of streaming). */
const KILL_AFTER_CHARS = 2_000;
/** Most text a crash may lose: what streams in the checkpoint interval plus a second of slack on a busy machine. */
const MAX_LOST_CHARS = ((1_000 + 1_000) / CHUNK_DELAY_MS) * CHUNK_CHARS;

describe('a reply streaming when the gateway is killed', { timeout: 90_000 }, () => {
  let fake: FakeModelServer;
  let home: string;
  let stateDir: string;
  let child: GatewayChild | undefined;
  const clients: ProtocolClient[] = [];

  before(async () => {
    const chunks = Array.from({ length: CHUNKS }, (_, i) => `chunk-${String(i).padStart(3, '0')} `);
    fake = await startFakeModelServer({ defaultReply: { text: chunks, chunkDelayMs: CHUNK_DELAY_MS } });
    home = await makeTempHome();
    stateDir = await mkdtemp(join(tmpdir(), 'pincer-partial-'));
  });

  after(async () => {
    for (const client of clients) client.ws.terminate();
    child?.cli.kill();
    await fake.close();
    await rm(home, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it('is in chat.history after the restart as far as it was checkpointed, marked interrupted', async () => {
    child = await startGatewayChild({ home, stateDir, modelUrl: fake.url });
    const client = await connectChild(child);
    clients.push(client);
    const sessionKey = 'agent:main:partial';
    const runId = 'partial-1';
    const res = await client.request('chat.send', { sessionKey, message: 'tell me a long story', idempotencyKey: runId }, { timeoutMs: WAIT_MS });
    assert.equal(res.ok, true, JSON.stringify(res.error));
    const seenText = (): string => {
      const deltas = client.frames.filter((f: AnyFrame) => f.event === 'chat' && f.payload?.runId === runId && f.payload?.state === 'delta');
      const last = deltas.at(-1);
      return (last?.payload.message?.content ?? []).map((block: { text?: string }) => block.text ?? '').join('');
    };
    await client.waitFor(() => seenText().length >= KILL_AFTER_CHARS, WAIT_MS, `${KILL_AFTER_CHARS} streamed characters`);
    const seen = seenText();
    await killChild(child);

    child = await startGatewayChild({ home, stateDir, modelUrl: fake.url });
    const checker = await connectChild(child);
    clients.push(checker);
    const rows = await readHistory(checker, sessionKey);
    const replies = rows.filter((m) => m.role === 'assistant' && m.__openclaw.runId === runId);
    assert.equal(replies.length, 1, 'the cut run has one closing row');
    const saved = rowText(replies[0]!);
    console.log(`partial reply: client saw ${seen.length} characters before the SIGKILL; ${saved.length} were in chat.history after the restart (${seen.length - saved.length} lost)`);
    assert.equal(replies[0]!.stopReason, 'interrupted');
    assert.ok(saved.length > 0 && seen.startsWith(saved), `the saved reply is a prefix of what streamed: ${JSON.stringify(saved.slice(0, 80))}`);
    assert.ok(seen.length - saved.length <= MAX_LOST_CHARS, `lost ${seen.length - saved.length} characters, more than ${MAX_LOST_CHARS}`);
  });
});
