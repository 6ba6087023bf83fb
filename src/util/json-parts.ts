/**
 * JSON of a value that may hold a huge string (a 10 MB reply), without ever
 * building that JSON as one string: the value is stringified with its long
 * strings stood in for by tokens (the "shell", small), and the long strings
 * are escaped slice by slice. A writer sends the parts one after another; a
 * reader that must check the JSON parses the shell and gets the long strings
 * back as they were (JSON gives any string back exactly, so nothing a parse
 * would check is skipped). One copy of a huge text instead of four.
 */

import { randomUUID } from 'node:crypto';

/** Strings longer than this are kept out of the shell, characters. */
export const LONG_STRING_CHARS = 64 * 1024;
/** Characters of a long string escaped at a time (small enough to stay in V8's young generation). */
const SLICE_CHARS = 32 * 1024;

export interface JsonShell {
  /** The value's JSON with every long string replaced by a quoted token. */
  readonly json: string;
  /** The long strings, by token number. */
  readonly long: readonly string[];
  /** Token prefix; a stood-in string reads `<token><number>`. */
  readonly token: string;
}

/** The shell of `value` (JSON.stringify semantics). Throws what JSON.stringify throws. */
export function jsonShell(value: unknown, longStringChars = LONG_STRING_CHARS): JsonShell {
  const long: string[] = [];
  // NUL is always escaped in JSON and a fresh id cannot occur by chance: no real string reads like a token.
  const token = `\u0000long-string:${randomUUID()}:`;
  const json = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'string' || item.length <= longStringChars) return item;
    long.push(item);
    return `${token}${long.length - 1}`;
  }) as string | undefined;
  if (json === undefined) throw new TypeError('value has no JSON form');
  return { json, long, token };
}

/** A JSON.parse reviver that puts the long strings back in place of their tokens. */
export function reviveLongStrings(shell: JsonShell): ((key: string, value: unknown) => unknown) | undefined {
  if (shell.long.length === 0) return undefined;
  return (_key, value) =>
    typeof value === 'string' && value.startsWith(shell.token) ? shell.long[Number(value.slice(shell.token.length))] : value;
}

/** The full JSON text as parts to be written in order. */
export function jsonPartsOf(shell: JsonShell): string[] {
  return [...lazyJsonPartsOf(shell)];
}

/**
 * The same parts, escaped slice by slice as they are iterated (and again on
 * each iteration), so that a writer holds one slice of a huge text's JSON at
 * a time rather than all of it.
 */
export function lazyJsonPartsOf(shell: JsonShell): Iterable<string> {
  if (shell.long.length === 0) return [shell.json];
  return { [Symbol.iterator]: () => generateParts(shell) };
}

function* generateParts(shell: JsonShell): Generator<string> {
  const quotedToken = JSON.stringify(shell.token).slice(0, -1);
  let at = 0;
  for (let found = shell.json.indexOf(quotedToken); found >= 0; found = shell.json.indexOf(quotedToken, at)) {
    const close = shell.json.indexOf('"', found + quotedToken.length);
    const text = shell.long[Number(shell.json.slice(found + quotedToken.length, close))] as string;
    yield `${shell.json.slice(at, found)}"`;
    yield* escapedSlices(text);
    yield '"';
    at = close + 1;
  }
  yield shell.json.slice(at);
}

/**
 * `text` JSON-escaped without its quotes, a slice at a time. Concatenated, the
 * slices of consecutive strings are the escape of the strings joined (a pair
 * split between two is escaped as two \\u escapes, which a parse puts back together).
 */
export function* escapedSlices(text: string): Generator<string> {
  for (let start = 0; start < text.length; ) {
    const end = sliceEnd(text, start + SLICE_CHARS);
    yield JSON.stringify(text.slice(start, end)).slice(1, -1);
    start = end;
  }
}

/** JSON of `value` as parts (see jsonPartsOf). */
export function jsonParts(value: unknown, longStringChars = LONG_STRING_CHARS): string[] {
  return jsonPartsOf(jsonShell(value, longStringChars));
}

/** UTF-8 bytes of the parts together. */
export function partsBytes(parts: readonly string[]): number {
  let bytes = 0;
  for (const part of parts) bytes += Buffer.byteLength(part, 'utf8');
  return bytes;
}

/** The parts in one buffer of `bytes` bytes (partsBytes). */
export function partsToBuffer(parts: readonly string[], bytes = partsBytes(parts)): Buffer {
  const buffer = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for (const part of parts) offset += buffer.write(part, offset, 'utf8');
  return buffer;
}

/**
 * UTF-8 bytes of a string once JSON-escaped, without its quotes, counted
 * without building the escaped text.
 */
export function jsonStringBytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += code < 0x20 ? (SHORT_ESCAPES.has(code) ? 2 : 6) : code === 0x22 || code === 0x5c ? 2 : 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      // A pair is 4 bytes; a lone surrogate is escaped as \uXXXX.
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 6;
    } else if (code >= 0xdc00 && code <= 0xdfff) bytes += 6;
    else bytes += 3;
  }
  return bytes;
}

/** Control characters JSON escapes in two characters (\b \t \n \f \r). */
const SHORT_ESCAPES = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

/** `end`, or one less when it would split a surrogate pair, capped at the text's length. */
function sliceEnd(text: string, end: number): number {
  if (end >= text.length) return text.length;
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}
