/**
 * The pure parts of the MCP bridge: tool names the providers accept, the
 * toolFilter globs, schema cleaning and result conversion with its cap.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exposedToolName, isToolAllowed, matchesGlob, MAX_TOOL_NAME_CHARS } from '../../src/mcp/tool-names.js';
import { cleanToolSchema } from '../../src/mcp/tool-schema.js';
import { MAX_IMAGE_CHARS, toToolOutcome } from '../../src/mcp/tool-result.js';

const PROVIDER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

describe('exposedToolName', () => {
  it('joins server and tool with a double underscore', () => {
    assert.equal(exposedToolName('github', 'create_issue'), 'github__create_issue');
  });

  it('replaces characters providers refuse and keeps different tools apart', () => {
    const a = exposedToolName('fs', 'read.file');
    const b = exposedToolName('fs', 'read/file');
    assert.match(a, PROVIDER_NAME);
    assert.match(b, PROVIDER_NAME);
    assert.notEqual(a, b);
    assert.ok(a.startsWith('fs__read_file_'), a);
  });

  it('cuts long names to 64 characters, still distinct', () => {
    const long = 'x'.repeat(80);
    const a = exposedToolName('server', `${long}a`);
    const b = exposedToolName('server', `${long}b`);
    assert.equal(a.length, MAX_TOOL_NAME_CHARS);
    assert.match(a, PROVIDER_NAME);
    assert.notEqual(a, b);
  });
});

describe('toolFilter', () => {
  it('matches exact names and * globs, with regex characters taken literally', () => {
    assert.ok(matchesGlob('search_*', 'search_code'));
    assert.ok(matchesGlob('*', 'anything'));
    assert.ok(!matchesGlob('search_*', 'research_code'));
    assert.ok(matchesGlob('a.b', 'a.b'));
    assert.ok(!matchesGlob('a.b*', 'axb'));
  });

  it('keeps included tools and drops excluded ones, exclude winning', () => {
    const filter = { include: ['search_*', 'get'], exclude: ['search_admin*'] };
    assert.deepEqual(
      ['search_code', 'search_admin_users', 'get', 'put'].filter((name) => isToolAllowed(name, filter)),
      ['search_code', 'get'],
    );
    assert.ok(isToolAllowed('anything', { include: [], exclude: [] }));
  });
});

describe('cleanToolSchema', () => {
  it('makes an object schema of nothing, of garbage and of a non-object root', () => {
    for (const input of [undefined, null, 'x', [], { type: 'object' }]) {
      assert.deepEqual(cleanToolSchema(input), { type: 'object', properties: {} });
    }
  });

  it('inlines $ref to $defs and drops meta keys everywhere', () => {
    const schema = cleanToolSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'urn:x',
      type: 'object',
      $defs: { Point: { $comment: 'c', type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
      definitions: { Name: { type: 'string', minLength: 1 } },
      properties: {
        at: { $ref: '#/$defs/Point', description: 'where' },
        names: { type: 'array', items: { $ref: '#/definitions/Name' } },
      },
      required: ['at', 'ghost'],
    });
    assert.deepEqual(schema, {
      type: 'object',
      properties: {
        at: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'], description: 'where' },
        names: { type: 'array', items: { type: 'string', minLength: 1 } },
      },
      required: ['at'],
    });
    assert.doesNotMatch(JSON.stringify(schema), /\$ref|\$defs|\$schema|\$id|\$comment|definitions/);
  });

  it('stops at recursive references instead of looping', () => {
    const schema = cleanToolSchema({
      type: 'object',
      $defs: { Node: { type: 'object', properties: { child: { $ref: '#/$defs/Node' }, label: { type: 'string' } } } },
      properties: { root: { $ref: '#/$defs/Node' } },
    });
    const root = (schema.properties as any).root;
    assert.equal(root.properties.label.type, 'string');
    assert.deepEqual(root.properties.child, {});
  });

  it('folds a root anyOf into one object and keeps only common required names', () => {
    const schema = cleanToolSchema({
      type: 'object',
      properties: { verbose: { type: 'boolean' } },
      anyOf: [
        { properties: { name: { type: 'string' } }, required: ['name'] },
        { properties: { id: { type: 'integer' } }, required: ['id'] },
      ],
    });
    assert.equal(schema.anyOf, undefined);
    assert.deepEqual(Object.keys(schema.properties as object), ['verbose', 'name', 'id']);
    assert.equal(schema.required, undefined);
    assert.match(String(schema.description), /name; id/);
  });

  it('folds a root allOf, keeping every required name', () => {
    const schema = cleanToolSchema({
      allOf: [
        { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
        { type: 'object', properties: { b: { type: 'string' } }, required: ['b'] },
      ],
    });
    assert.deepEqual(schema, { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['a', 'b'] });
  });

  it('turns boolean property schemas into what providers take', () => {
    const schema = cleanToolSchema({ type: 'object', properties: { any: true, never: false }, additionalProperties: false });
    assert.deepEqual(schema, { type: 'object', properties: { any: {} }, additionalProperties: false });
  });
});

describe('toToolOutcome', () => {
  it('keeps text and supported images, and names what it cannot pass on', () => {
    const outcome = toToolOutcome(
      {
        content: [
          { type: 'text', text: 'hello' },
          { type: 'image', data: 'AAAA', mimeType: 'image/png' },
          { type: 'image', data: 'AAAA', mimeType: 'image/tiff' },
          { type: 'audio', data: 'AAAAAAAA', mimeType: 'audio/wav' },
          { type: 'resource', resource: { uri: 'file:///a.txt', text: 'file body' } },
          { type: 'resource_link', uri: 'file:///b.txt', name: 'b' },
          { type: 'widget' },
        ],
      },
      10_000,
    );
    assert.equal(outcome.isError, false);
    assert.deepEqual(outcome.content, [
      { type: 'text', text: 'hello' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
      { type: 'text', text: '[image image/tiff not shown: only PNG, JPEG, GIF and WebP are passed on]' },
      { type: 'text', text: '[audio audio/wav of 6 bytes not shown]' },
      { type: 'text', text: '[resource file:///a.txt]\nfile body' },
      { type: 'text', text: '[resource link: b file:///b.txt]' },
      { type: 'text', text: '[widget content not shown]' },
    ]);
  });

  it('gives structured content as JSON when there is no text, and keeps isError', () => {
    assert.deepEqual(toToolOutcome({ content: [], structuredContent: { sum: 3 }, isError: true }, 1000), {
      content: [{ type: 'text', text: '{"sum":3}' }],
      isError: true,
    });
    assert.deepEqual(toToolOutcome({ content: [{ type: 'text', text: '3' }], structuredContent: { sum: 3 } }, 1000).content, [{ type: 'text', text: '3' }]);
    assert.deepEqual(toToolOutcome({}, 1000).content, [{ type: 'text', text: '(no output)' }]);
  });

  it('caps all text together at maxTextBytes without splitting a character', () => {
    const outcome = toToolOutcome({ content: [{ type: 'text', text: 'ab' }, { type: 'text', text: 'é'.repeat(10) }, { type: 'text', text: 'tail' }] }, 7);
    assert.deepEqual(outcome.content, [
      { type: 'text', text: 'ab' },
      { type: 'text', text: 'éé' },
      { type: 'text', text: '[output truncated: 20 more bytes were dropped]' },
    ]);
  });

  it('names an image too large for a tool result instead of sending it', () => {
    const data = 'A'.repeat(MAX_IMAGE_CHARS + 4);
    const outcome = toToolOutcome({ content: [{ type: 'image', data, mimeType: 'image/jpeg' }] }, 1000);
    assert.equal(outcome.content.length, 1);
    assert.match((outcome.content[0] as { text: string }).text, /image image\/jpeg of \d+ bytes not shown: too large/);
  });
});
