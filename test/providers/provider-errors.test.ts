import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  httpError,
  readErrorDetail,
  readRetryAfterMs,
  redactUrl,
  rootCauseMessage,
} from '../../src/providers/provider-errors.js';
import { parseToolArguments } from '../../src/providers/tool-arguments.js';

const CONTEXT = { model: 'gpt-x', baseUrl: 'http://127.0.0.1:9/v1', timeoutMs: 1_000 };

describe('httpError', () => {
  it('maps each status to a readable message and retryable flag', () => {
    // The last flag: the request itself was refused, so another model would refuse it too (no failover).
    const cases: [number, string, boolean, boolean][] = [
      [400, 'model provider rejected the request (HTTP 400): no access', false, true],
      [401, 'model provider rejected the API key (HTTP 401): check PINCER_API_KEY', false, false],
      [403, 'model provider denied access (HTTP 403): no access', false, false],
      [404, 'model not found: gpt-x (HTTP 404)', false, false],
      [408, 'model provider rejected the request (HTTP 408): no access', true, false],
      [409, 'model provider rejected the request (HTTP 409): no access', true, false],
      [413, 'model provider rejected the request (HTTP 413): no access', false, true],
      [422, 'model provider rejected the request (HTTP 422): no access', false, true],
      [429, 'rate limited by the model provider (HTTP 429)', true, false],
      [500, 'model provider error (HTTP 500)', true, false],
      [529, 'model provider error (HTTP 529)', true, false],
    ];
    for (const [status, message, retryable, requestRejected] of cases) {
      const expected = { type: 'error', message, status, retryable, ...(requestRejected ? { requestRejected } : {}) };
      assert.deepEqual(httpError(status, 'no access', CONTEXT), expected);
    }
  });

  it('never quotes the provider text of a 401 (it may echo the key)', () => {
    const event = httpError(401, 'Incorrect API key provided: sk-abc123', CONTEXT);
    assert.doesNotMatch(event.message, /sk-abc123/);
  });

  it('clips long provider text', () => {
    const event = httpError(400, 'x'.repeat(5_000), CONTEXT);
    assert.ok(event.message.length < 400);
  });
});

describe('readErrorDetail', () => {
  it('reads both SDK shapes and ignores anything else', () => {
    assert.equal(readErrorDetail({ message: 'flat', type: 'invalid_request_error' }), 'flat');
    assert.equal(readErrorDetail({ type: 'error', error: { type: 'x', message: 'nested' } }), 'nested');
    assert.equal(readErrorDetail('text'), undefined);
    assert.equal(readErrorDetail({ message: 42 }), undefined);
  });
});

describe('readRetryAfterMs', () => {
  it('prefers retry-after-ms, then retry-after seconds or date', () => {
    assert.equal(readRetryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' })), 250);
    assert.equal(readRetryAfterMs(new Headers({ 'retry-after': '2' })), 2_000);
    const date = new Date(Date.now() + 60_000).toUTCString();
    const fromDate = readRetryAfterMs(new Headers({ 'retry-after': date }));
    assert.ok(fromDate !== undefined && fromDate > 50_000 && fromDate <= 60_000);
    assert.equal(readRetryAfterMs(new Headers({ 'retry-after': 'soon' })), undefined);
    assert.equal(readRetryAfterMs(undefined), undefined);
  });
});

describe('redactUrl', () => {
  it('drops credentials, query and fragment', () => {
    assert.equal(redactUrl('https://user:secret@example.test/v1?key=abc#x'), 'https://example.test/v1');
    assert.equal(redactUrl('not a url'), '(invalid URL)');
  });
});

describe('rootCauseMessage', () => {
  it('returns the innermost cause', () => {
    const err = new Error('Connection error.', { cause: new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') }) });
    assert.equal(rootCauseMessage(err), 'connect ECONNREFUSED 127.0.0.1:9');
    assert.equal(rootCauseMessage('plain'), 'plain');
  });
});

describe('parseToolArguments', () => {
  it('parses objects, treats empty as {}, and rejects everything else', () => {
    assert.deepEqual(parseToolArguments('{"a":1}'), { a: 1 });
    assert.deepEqual(parseToolArguments('  '), {});
    assert.equal(parseToolArguments('{"a":'), null);
    assert.equal(parseToolArguments('[1]'), null);
    assert.equal(parseToolArguments('"text"'), null);
    assert.equal(parseToolArguments('null'), null);
  });
});
