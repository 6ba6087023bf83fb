import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createProvider, describeProvider } from '../../src/providers/create-provider.js';
import type { ProviderConfig } from '../../src/providers/types.js';

const BASE: ProviderConfig = { kind: 'openai', model: 'gpt-test', timeoutMs: 1_000, maxRetries: 0 };

describe('createProvider', () => {
  it('chooses the implementation by kind', () => {
    assert.equal(createProvider(BASE).name, 'openai');
    assert.equal(createProvider({ ...BASE, kind: 'anthropic' }).name, 'anthropic');
    assert.equal(createProvider(BASE).model, 'gpt-test');
  });

  it('throws on an empty model or an unknown kind, naming the option', () => {
    assert.throws(() => createProvider({ ...BASE, model: '' }), /provider\.model/);
    // Deliberately ill-typed, as a hand-edited config could be before validation.
    const bogus = JSON.parse('{"kind":"gemini","model":"m","timeoutMs":1,"maxRetries":0}') as ProviderConfig;
    assert.throws(() => createProvider(bogus), /unknown provider\.kind "gemini"/);
  });
});

describe('describeProvider', () => {
  it('names kind, model and endpoint but never the key', () => {
    const line = describeProvider({ ...BASE, apiKey: 'sk-very-secret', baseUrl: 'http://user:pw@127.0.0.1:11434/v1?x=1' });
    assert.equal(line, 'openai gpt-test at http://127.0.0.1:11434/v1 (API key set)');
    assert.doesNotMatch(line, /sk-very-secret|pw/);
    assert.equal(
      describeProvider({ ...BASE, kind: 'anthropic', model: 'claude-x' }),
      'anthropic claude-x at https://api.anthropic.com (no API key)',
    );
  });
});

describe('start-up cost', () => {
  it('no provider module imports an SDK at load time (only `import type` and `await import`)', async () => {
    const dir = fileURLToPath(new URL('../../src/providers/', import.meta.url));
    const files = (await readdir(dir)).filter((name) => /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts'));
    assert.ok(files.length >= 5, `provider sources not found in ${dir}`);
    const staticImport = /^\s*(import|export)\s+(?!type\b)[^;]*?from\s+['"](openai|@anthropic-ai\/sdk)(\/[^'"]*)?['"]/m;
    const requireCall = /require\(\s*['"](openai|@anthropic-ai\/sdk)/;
    for (const name of files) {
      const source = await readFile(dir + name, 'utf8');
      assert.doesNotMatch(source, staticImport, `${name} imports an SDK statically`);
      assert.doesNotMatch(source, requireCall, `${name} requires an SDK`);
    }
  });
});
