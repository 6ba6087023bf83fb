/**
 * Issue 13, item 6: a 10 MB model reply stays readable through the protocol.
 * Against the real `pincer gateway` process: the final event carries the
 * reply cut to 1 MiB with `truncated: true` (not no text), and the
 * lifecycle end likewise; chat.history returns the message cut with the
 * same flag; chat.message.get pages through the whole text, which matches
 * the model's reply byte for byte. The gateway's RSS growth is printed
 * (its budget lives in `npm run bench`).
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FINAL_REPLY_MAX_BYTES, STREAM_DELTA_MAX_CHARS } from '../../src/channels/openclaw/fan-out.js';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { makeTempHome } from '../helpers/spawn-cli.js';
import { startGatewayChild, type GatewayChild } from './gateway-process.js';

const CHUNK_COUNT = 2000;
const CHUNK_CHARS = 5 * 1024;
/** Default policy.maxPayload, bytes. */
const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
const WAIT_MS = 60_000;
const RSS_POLL_MS = 20;
const MIB = 1024 * 1024;

describe('a 10 MB model reply', { timeout: 180_000 }, () => {
  let fake: FakeModelServer;
  let home: string;
  let gateway: GatewayChild;
  let client: ProtocolClient;

  before(async () => {
    fake = await startFakeModelServer({ zeroDelay: true });
    home = await makeTempHome();
    const stateDir = join(home, 'state');
    await mkdir(stateDir);
    gateway = await startGatewayChild({ home, stateDir, modelUrl: fake.url });
    client = await ProtocolClient.open(gateway.wsUrl);
    assert.equal((await client.connect({ token: gateway.token })).ok, true);
  });
  after(async () => {
    await client?.close();
    gateway?.cli.kill();
    await gateway?.cli.waitForExit(10_000).catch(() => undefined);
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });

  it('is stored, arrives cut and flagged in its final event, and reads back whole through chat.message.get', async () => {
    // Distinct chunks with a two-byte character, so a misplaced page shows (mostly ASCII, like model output).
    const chunks = Array.from({ length: CHUNK_COUNT }, (_, i) => `[${i}:é]`.padEnd(CHUNK_CHARS, String.fromCharCode(97 + (i % 26))));
    const reply = chunks.join('');
    fake.enqueue({ text: chunks });
    const pid = gateway.cli.child.pid!;
    const rssBefore = await readRss(pid);
    let rssPeak = rssBefore;
    const poll = setInterval(() => {
      readRss(pid).then((rss) => (rssPeak = Math.max(rssPeak, rss)), () => undefined);
    }, RSS_POLL_MS);

    const sessionKey = `agent:main:large-${randomUUID()}`;
    const runId = randomUUID();
    let final;
    try {
      const sent = await client.request('chat.send', { sessionKey, message: 'ten megabytes, please', idempotencyKey: runId }, { timeoutMs: WAIT_MS });
      assert.equal(sent.ok, true, JSON.stringify(sent.error));
      final = await client.waitFor(
        (f) => f.type === 'event' && f.event === 'chat' && f.payload?.runId === runId && f.payload?.state !== 'delta',
        WAIT_MS,
        'terminal chat event',
      );
    } finally {
      clearInterval(poll);
    }
    assert.equal(final.payload.state, 'final');
    const message = final.payload.message;
    assert.ok(message !== undefined, 'the final event carries the message');
    assert.equal(message.truncated, true, 'flagged as cut');
    const finalText: string = message.content[0].text;
    assert.ok(finalText.length > FINAL_REPLY_MAX_BYTES / 2 && finalText.length <= FINAL_REPLY_MAX_BYTES, `carries the reply cut to the cap (${finalText.length} chars)`);
    assert.ok(reply.startsWith(finalText), 'the cut text is the start of the reply');
    assert.ok(Buffer.byteLength(JSON.stringify(final)) <= MAX_PAYLOAD_BYTES);

    const end = client.events.find((e) => e.event === 'agent' && e.payload?.runId === runId && e.payload?.data?.phase === 'end');
    assert.equal(end?.payload.data.terminalReply.truncated, true);
    assert.ok(reply.startsWith(end!.payload.data.terminalReply.text));
    assert.deepEqual(client.seqErrors, []);
    assert.equal(client.closeInfo, undefined);
    const deltas = client.events.filter((e) => e.event === 'chat' && e.payload?.runId === runId && e.payload?.state === 'delta');
    assert.ok(deltas.length >= 1, 'the stream started');
    for (const delta of deltas) assert.ok(delta.payload.message.content[0].text.length <= STREAM_DELTA_MAX_CHARS, 'no delta past the cap');

    const history = await client.request('chat.history', { sessionKey }, { timeoutMs: WAIT_MS });
    assert.equal(history.ok, true, JSON.stringify(history.error));
    const rows = history.payload.messages;
    assert.deepEqual(rows.map((m: { role: string }) => m.role), ['user', 'assistant'], 'the question and the cut reply');
    assert.equal(rows[1].truncated, true);
    assert.equal(rows[0].content[0].text, 'ten megabytes, please');
    assert.equal(history.payload.hasMore, false);
    assert.ok(reply.startsWith(rows[1].content[0].text));

    let read = '';
    let offset = 0;
    let pages = 0;
    for (;;) {
      const page = await client.request('chat.message.get', { sessionKey, messageId: rows[1].id, offset }, { timeoutMs: WAIT_MS });
      assert.equal(page.ok, true, JSON.stringify(page.error));
      assert.equal(page.payload.offset, offset);
      assert.equal(page.payload.totalChars, reply.length);
      read += page.payload.message.content[0].text;
      offset = page.payload.nextOffset;
      pages++;
      if (!page.payload.hasMore) break;
      assert.ok(pages < 20, 'bounded paging');
    }
    assert.equal(read.length, reply.length);
    assert.ok(read === reply, 'the pages rebuild the reply exactly');

    const growthMib = (rssPeak - rssBefore) / MIB;
    const replyMib = Buffer.byteLength(reply) / MIB;
    console.log(
      `large reply: ${replyMib.toFixed(1)} MiB reply, final event ${(finalText.length / MIB).toFixed(1)} Mi chars cut and flagged, ` +
        `read back in ${pages} chat.message.get pages; gateway RSS ${(rssBefore / MIB).toFixed(1)} → peak ${(rssPeak / MIB).toFixed(1)} MiB ` +
        `(growth ${(growthMib / replyMib).toFixed(2)}× the reply)`,
    );
  });
});

async function readRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match === null ? 0 : Number(match[1]) * 1024;
}
