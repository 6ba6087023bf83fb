import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { FetchHeaders, FetchResponse } from '../../src/providers/fetch-classes.js';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { runNodeScript } from '../helpers/node-script.js';

const NODE_HTTP_FETCH = fileURLToPath(new URL('../../src/providers/node-http-fetch.js', import.meta.url));
const VENDOR = fileURLToPath(new URL('../../vendor/', import.meta.url));
/** How Node lists its fetch stack (undici) once loaded. */
const UNDICI = 'NativeModule internal/deps/undici/undici';

function bodyOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
}

describe('FetchHeaders', () => {
  it('keeps the Headers contract: names case-insensitive, values joined, Set-Cookie apart, sorted iteration', () => {
    const headers = new FetchHeaders({ 'X-B': 'two', 'x-a': ' one ' });
    headers.append('x-b', 'three');
    headers.append('Set-Cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    assert.equal(headers.get('X-A'), 'one');
    assert.equal(headers.get('x-b'), 'two, three');
    assert.deepEqual(headers.getSetCookie(), ['a=1', 'b=2']);
    assert.deepEqual([...headers], [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-a', 'one'], ['x-b', 'two, three']]);
    headers.set('X-B', 'four');
    headers.delete('x-a');
    assert.equal(headers.has('x-a'), false);
    assert.deepEqual([...headers.keys()], ['set-cookie', 'set-cookie', 'x-b']);
    assert.equal(headers.get('missing'), null);
  });

  it('is built from pairs, a record with lists, or another Headers, and refuses a bad name or value', () => {
    assert.deepEqual([...new FetchHeaders([['Accept', 'a'], ['accept', 'b']])], [['accept', 'a, b']]);
    assert.deepEqual([...new FetchHeaders({ accept: ['a', 'b'], skipped: undefined })], [['accept', 'a, b']]);
    assert.deepEqual([...new FetchHeaders(new FetchHeaders({ a: '1' }))], [['a', '1']]);
    assert.throws(() => new FetchHeaders({ 'bad name': 'x' }), /invalid header name "bad name"/);
    assert.throws(() => new FetchHeaders({ a: 'x\r\ny: z' }), /CR or LF/);
    assert.throws(() => new FetchHeaders([['only-a-name']] as unknown as [string, string][]), /\[name, value\] pair/);
  });

  it('counts an instance of another copy of the module as a Headers, by its registered brand', () => {
    const foreign = { [Symbol.for('pincer.fetch-headers')]: true };
    assert.ok(foreign instanceof FetchHeaders);
    assert.ok(!({} instanceof FetchHeaders));
  });
});

describe('FetchResponse', () => {
  it('reads its body once, whole or as text or JSON, and says when it has been read', async () => {
    const response = new FetchResponse(bodyOf('{"a":', '1}'), { status: 201, statusText: 'Created', headers: new FetchHeaders({ 'content-type': 'application/json' }) });
    assert.equal(response.ok, true);
    assert.equal(response.bodyUsed, false);
    assert.deepEqual(await response.json(), { a: 1 });
    assert.equal(response.bodyUsed, true);
    await assert.rejects(response.text(), /Body is unusable/);
    const failed = new FetchResponse(null, { status: 404, headers: new FetchHeaders() });
    assert.equal(failed.ok, false);
    assert.equal(await failed.text(), '');
  });

  it('a clone reads the same body as the original, and both decode UTF-8 as fetch does', async () => {
    const response = new FetchResponse(bodyOf('\uFEFFhé', 'llo'), { status: 200, headers: new FetchHeaders({ 'content-type': 'text/plain' }) });
    const copy = response.clone();
    assert.equal(await copy.text(), 'héllo');
    const blob = await response.blob();
    assert.equal(blob.type, 'text/plain');
    assert.equal(Buffer.from(await blob.arrayBuffer()).toString('utf8'), '\uFEFFhéllo');
    assert.throws(() => response.clone(), /already been consumed/);
  });
});

describe('the vendored provider SDKs over nodeHttpFetch', () => {
  let model: FakeModelServer;

  before(async () => {
    model = await startFakeModelServer();
  });

  after(async () => {
    await model.close();
  });

  /** The reply's text and whether Node's fetch stack got loaded, from a script run in a fresh process. */
  const runScript = (script: string) => runNodeScript<{ text: string; undiciLoaded: boolean }>(script, 30_000);

  it('the OpenAI SDK streams a reply without loading Node\'s fetch stack', async () => {
    const result = await runScript(`
      const { default: OpenAI } = await import(${JSON.stringify(VENDOR + 'openai.mjs')});
      const { nodeHttpFetch } = await import(${JSON.stringify(NODE_HTTP_FETCH)});
      const client = new OpenAI({ apiKey: 'test-key', baseURL: ${JSON.stringify(model.url)}, fetch: nodeHttpFetch, maxRetries: 0 });
      const stream = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      console.log(JSON.stringify({ text, undiciLoaded: process.moduleLoadList.includes(${JSON.stringify(UNDICI)}) }));
    `);
    assert.deepEqual(result, { text: 'Hello from the fake model.', undiciLoaded: false });
  });

  it('the Anthropic SDK streams a reply without loading Node\'s fetch stack', async () => {
    const result = await runScript(`
      const { default: Anthropic } = await import(${JSON.stringify(VENDOR + 'anthropic-sdk.mjs')});
      const { nodeHttpFetch } = await import(${JSON.stringify(NODE_HTTP_FETCH)});
      const client = new Anthropic({ apiKey: 'test-key', baseURL: ${JSON.stringify(model.anthropicUrl)}, fetch: nodeHttpFetch, maxRetries: 0 });
      const stream = client.messages.stream({ model: 'fake-model', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      let text = '';
      for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      console.log(JSON.stringify({ text, undiciLoaded: process.moduleLoadList.includes(${JSON.stringify(UNDICI)}) }));
    `);
    assert.deepEqual(result, { text: 'Hello from the fake model.', undiciLoaded: false });
  });
});
