import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serialiseHelloOk } from '../../../src/channels/openclaw/hello-frame.js';
import { serialiseOkResponse } from '../../../src/protocol/frames.js';

describe('serialiseHelloOk', () => {
  it('reads back as the same frame the plain serialiser makes, for each connection sharing one features object', () => {
    const features = { methods: ['chat.send', 'chat.history', 'say "hi"'], events: ['chat', 'tick'] };
    for (const connId of ['c-1', 'c-2\u2028']) {
      const hello = { type: 'hello-ok', protocol: 4, server: { version: '1', connId }, features, snapshot: { presence: [] }, policy: { maxPayload: 1 } };
      const frame = serialiseHelloOk(`id-${connId}`, hello);
      assert.deepEqual(JSON.parse(frame), JSON.parse(serialiseOkResponse(`id-${connId}`, hello)));
    }
  });

  it('falls back to the plain serialiser when there is no features object', () => {
    const hello = { type: 'hello-ok', protocol: 3 };
    assert.equal(serialiseHelloOk('1', hello), serialiseOkResponse('1', hello));
    assert.equal(serialiseHelloOk('2', { features: { methods: [] } }), serialiseOkResponse('2', { features: { methods: [] } }));
  });
});
