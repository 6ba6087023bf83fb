import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSessionFile } from '../../src/sessions/session-file-parser.js';
import { encodeRecord, type SessionHeaderRecord, type SessionRecord } from '../../src/sessions/session-records.js';
import { assistantMessage, userMessage } from './fixtures/messages.js';

const HEADER: SessionRecord = {
  type: 'session',
  version: 1,
  key: 'agent:main:main',
  sessionId: 'sid-1',
  createdAt: 1000,
};

function fileOf(...parts: string[]): Buffer {
  return Buffer.from(parts.join(''), 'utf8');
}

describe('parseSessionFile', () => {
  it('folds messages and meta records into SessionMeta', () => {
    const bytes = fileOf(
      encodeRecord(HEADER),
      encodeRecord({
        type: 'message',
        at: 2000,
        message: userMessage('u1', '  Hello\n  there, this title is rather long and will be cut at sixty chars ok'),
      }),
      encodeRecord({
        type: 'message',
        at: 3000,
        message: assistantMessage('a1', 'hi', { input: 10, output: 12, totalTokens: 22 }, 'run-1'),
      }),
      encodeRecord({ type: 'meta', at: 4000, label: 'Label' }),
      encodeRecord({ type: 'message', at: 5000, message: userMessage('u2', 'second') }),
    );
    const parsed = parseSessionFile(bytes);
    assert.deepEqual(parsed.issues, []);
    assert.equal(parsed.tail, 'none');
    assert.equal(parsed.completeBytes, bytes.length);
    assert.deepEqual(
      parsed.messages.map((m) => m.id),
      ['u1', 'a1', 'u2'],
    );
    assert.deepEqual(parsed.meta, {
      key: 'agent:main:main',
      agentId: 'main',
      sessionId: 'sid-1',
      label: 'Label',
      derivedTitle: 'Hello there, this title is rather long and will be cut at si',
      createdAt: 1000,
      updatedAt: 5000,
      messageCount: 3,
      inputTokens: 10,
      outputTokens: 12,
      totalTokens: 22,
      lastRunId: 'run-1',
    });
  });

  it('reports a torn last line and where to cut', () => {
    const good = fileOf(encodeRecord(HEADER), encodeRecord({ type: 'message', at: 2, message: userMessage('u1', 'a') }));
    const torn = Buffer.concat([good, Buffer.from('{"type":"message","at":3,"mess')]);
    const parsed = parseSessionFile(torn);
    assert.equal(parsed.tail, 'torn');
    assert.equal(parsed.completeBytes, good.length);
    assert.deepEqual(
      parsed.messages.map((m) => m.id),
      ['u1'],
    );
    assert.equal(parsed.issues.length, 1);
    assert.match(parsed.issues[0].reason, /^torn last line/);
  });

  it('keeps a complete last record that lacks its newline', () => {
    const text = encodeRecord(HEADER) + encodeRecord({ type: 'message', at: 2, message: userMessage('u1', 'a') });
    const parsed = parseSessionFile(Buffer.from(text.slice(0, -1)));
    assert.equal(parsed.tail, 'unterminated');
    assert.equal(parsed.messages.length, 1);
    assert.deepEqual(parsed.issues, []);
  });

  it('puts a placeholder for each bad line, skips blank lines and duplicate ids, with an issue each', () => {
    const parsed = parseSessionFile(
      fileOf(
        encodeRecord(HEADER),
        'not json\n',
        '\n',
        '{"type":"message","at":1,"message":{"id":"x","role":"system","content":[],"timestamp":1}}\n',
        encodeRecord({ type: 'message', at: 2, message: userMessage('u1', 'a') }),
        encodeRecord({ type: 'message', at: 3, message: userMessage('u1', 'again') }),
        encodeRecord(HEADER),
      ),
    );
    assert.deepEqual(
      parsed.messages.map((m) => m.id.replace(/-[0-9a-f]{12}$/, '')),
      ['damaged-line-2', 'damaged-line-4', 'u1'],
    );
    assert.equal(parsed.damagedRows, 2);
    // Line 7 repeats the header: a copy, not damage.
    assert.deepEqual(
      parsed.issues.map((issue) => issue.line),
      [2, 4, 6],
    );
    assert.match(parsed.issues[1].reason, /role/);
  });

  it('reads the header from its copy, or from the hint, when line 1 is garbled', () => {
    const body = [
      encodeRecord({ type: 'message', at: 2, message: userMessage('u1', 'a', { runId: 'r1' }) }),
      encodeRecord({ type: 'message', at: 3, message: assistantMessage('a1', 'b', { input: 1, output: 1, totalTokens: 2 }, 'r1') }),
    ];
    const copied = parseSessionFile(fileOf('{"type":"sess#garbled\n', encodeRecord(HEADER), ...body));
    assert.equal(copied.headerSource, 'copy');
    assert.equal(copied.meta?.sessionId, 'sid-1');
    assert.deepEqual(copied.messages.map((m) => m.id), ['u1', 'a1']);
    const hinted = parseSessionFile(fileOf('garbage\n', ...body), HEADER as SessionHeaderRecord);
    assert.equal(hinted.headerSource, 'hint');
    assert.equal(hinted.meta?.messageCount, 2);
  });

  it('keeps the drafts of open runs and drops them when the run closes', () => {
    const parsed = parseSessionFile(
      fileOf(
        encodeRecord(HEADER),
        encodeRecord({ type: 'message', at: 2, message: userMessage('u1', 'a', { runId: 'r1' }) }),
        encodeRecord({ type: 'message', at: 2, message: userMessage('u2', 'b', { runId: 'r2' }) }),
        encodeRecord({ type: 'draft', at: 3, runId: 'r1', text: 'Hel' }),
        encodeRecord({ type: 'draft', at: 4, runId: 'r1', text: 'lo' }),
        encodeRecord({ type: 'message', at: 5, message: assistantMessage('a1', 'Hello', { input: 1, output: 1, totalTokens: 2 }, 'r1') }),
        encodeRecord({ type: 'draft', at: 6, runId: 'r2', text: 'Wor' }),
      ),
    );
    assert.deepEqual(parsed.openRuns.ids(), ['r2']);
    assert.equal(parsed.openRuns.draft('r2'), 'Wor');
    assert.equal(parsed.openRuns.draft('r1'), undefined);
    // Conversation order: the reply of r1 right after its question, before the queued r2.
    assert.deepEqual(parsed.messages.map((m) => m.id), ['u1', 'a1', 'u2']);
  });

  it('attributes a damaged reply to its run, so the run is not taken for cut', () => {
    const reply = encodeRecord({ type: 'message', at: 3, message: assistantMessage('a1', 'b', { input: 1, output: 1, totalTokens: 2 }, 'r1') });
    const parsed = parseSessionFile(
      fileOf(encodeRecord(HEADER), encodeRecord({ type: 'message', at: 2, message: userMessage('u1', 'a', { runId: 'r1' }) }), `${reply.slice(0, 20)}\u0000${reply.slice(21)}`),
    );
    assert.deepEqual(parsed.openRuns.ids(), []);
    assert.equal(parsed.messages[1]?.runId, 'r1');
    assert.match(String(parsed.messages[1]?.content[0]?.type === 'text' && parsed.messages[1].content[0].text), /line 3 of the session file is damaged/);
  });

  it('gives no header for an empty file, a bad first line or a non-canonical key', () => {
    assert.equal(parseSessionFile(Buffer.alloc(0)).header, null);
    assert.equal(parseSessionFile(fileOf('garbage\n')).header, null);
    assert.equal(parseSessionFile(fileOf(encodeRecord({ ...HEADER, key: 'main' } as SessionRecord))).header, null);
    assert.equal(parseSessionFile(fileOf(encodeRecord({ ...HEADER, version: 99 } as SessionRecord))).header, null);
    const body = fileOf(encodeRecord({ type: 'message', at: 2, message: userMessage('u1', 'a') }));
    assert.equal(parseSessionFile(body).meta, null);
  });
});
