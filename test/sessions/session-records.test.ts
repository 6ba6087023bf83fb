import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord, encodeDraftRecord, encodeRecord } from '../../src/sessions/session-records.js';

describe('encodeDraftRecord', () => {
  it('writes the line of the joined text without joining it', () => {
    const smile = '😀';
    // A pair split between two deltas, escapes, multi-byte text and a piece longer than one escaped slice.
    const pieces = ['He said "hi"\n', smile[0]!, smile[1]!, ' €\\', 'x'.repeat(100_000), '\u0001', ''];
    const encoded = encodeDraftRecord(1_700_000_000_000, 'run-"1"', pieces);
    assert.ok(encoded.ok);
    const parts = [...encoded.parts];
    assert.ok(Math.max(...parts.map((part) => part.length)) < 100_000, 'the long piece is escaped slice by slice');
    const line = parts.join('');
    assert.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'), 'one line');
    const decoded = decodeRecord(line.slice(0, -1));
    assert.ok(decoded.ok);
    // Compared as a boolean: a failure must not print 100 KB.
    const expected = { type: 'draft', at: 1_700_000_000_000, runId: 'run-"1"', text: pieces.join('') };
    assert.ok(JSON.stringify(decoded.record) === JSON.stringify(expected), 'the line reads back as the joined text');
    // Without a pair split between pieces, the line is exactly the usual encoding.
    const whole = encodeDraftRecord(1, 'r', ['a"', 'b\n', 'x'.repeat(70_000)]);
    assert.ok(whole.ok && [...whole.parts].join('') === encodeRecord({ type: 'draft', at: 1, runId: 'r', text: `a"b\n${'x'.repeat(70_000)}` }));
  });

  it('refuses a record a reload would skip, naming the field', () => {
    const encoded = encodeDraftRecord(1_700_000_000_000, '', ['text']);
    assert.equal(encoded.ok, false);
    assert.match(encoded.ok ? '' : encoded.reason, /runId/);
  });
});
