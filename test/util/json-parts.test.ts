import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonParts, jsonShell, jsonStringBytes, lazyJsonPartsOf, partsBytes, partsToBuffer, reviveLongStrings } from '../../src/util/json-parts.js';

/** A long text whose slice boundaries fall on surrogate pairs, escapes and multi-byte characters. */
function awkwardText(chars: number): string {
  const alphabet = ['a', 'é', '€', '😀', '"', '\\', '\n', '\u0001', '\ud800', 'z'];
  let text = '';
  for (let i = 0; text.length < chars; i++) text += alphabet[(i * 7) % alphabet.length];
  return text;
}

describe('jsonParts', () => {
  it('joins to exactly JSON.stringify, with long strings escaped slice by slice', () => {
    const long = awkwardText(300_000);
    const value = { type: 'message', at: 1, message: { content: [{ type: 'text', text: long }, { type: 'text', text: 'short "q"' }], other: long.slice(1) } };
    const parts = jsonParts(value, 1024);
    assert.ok(parts.length > 10, 'the long strings are cut into parts');
    assert.ok(Math.max(...parts.map((p) => p.length)) < long.length / 2, 'no part holds a whole long string');
    assert.equal(parts.join(''), JSON.stringify(value));
    assert.equal(partsToBuffer(parts).toString('utf8'), JSON.stringify(value));
    assert.equal(partsBytes(parts), Buffer.byteLength(JSON.stringify(value)));
  });

  it('is one part when nothing is long', () => {
    assert.deepEqual(jsonParts({ a: 'b' }), ['{"a":"b"}']);
  });

  it('parses its shell back to the value, sharing the long strings', () => {
    const long = awkwardText(200_000);
    const shell = jsonShell({ text: long, list: [long, 'x'] }, 1000);
    assert.ok(shell.json.length < 500, 'the shell stays small');
    const parsed = JSON.parse(shell.json, reviveLongStrings(shell)) as { text: string; list: string[] };
    assert.equal(parsed.text, long);
    assert.deepEqual(parsed.list, [long, 'x']);
  });

  it('lazily: makes each slice as it is read, the same parts on every reading, and a plain array when nothing is long', () => {
    const long = awkwardText(300_000);
    const value = { text: long, tail: 'end' };
    const lazy = lazyJsonPartsOf(jsonShell(value, 1024));
    assert.ok(!Array.isArray(lazy), 'the parts of a long string are not built ahead');
    const iterator = lazy[Symbol.iterator]();
    assert.equal(iterator.next().value, '{"text":"');
    assert.equal([...lazy].join(''), JSON.stringify(value));
    assert.deepEqual([...lazy], jsonParts(value, 1024));
    assert.deepEqual(lazyJsonPartsOf(jsonShell({ a: 'b' })), ['{"a":"b"}']);
  });

  it('refuses a value with no JSON form', () => {
    assert.throws(() => jsonShell(undefined), TypeError);
  });
});

describe('jsonStringBytes', () => {
  it('counts the UTF-8 bytes of the escaped text without its quotes', () => {
    for (const text of ['', 'plain', awkwardText(5000), '\ud83d', '\udc00x', '\u2028\u0000\t\b\f\r']) {
      assert.equal(jsonStringBytes(text), Buffer.byteLength(JSON.stringify(text)) - 2, JSON.stringify(text.slice(0, 20)));
    }
  });
});
