/**
 * The bundled CLI (dist/pincer.mjs) must load the provider SDKs and the MCP
 * SDK only on first use: a static import in the bundle would load them at
 * every start-up, whether or not the gateway ever needs them.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const BUNDLE = new URL('../../pincer.mjs', import.meta.url);
const LAZY_PACKAGES = ['openai', '@anthropic-ai/sdk', '@modelcontextprotocol/sdk'];

describe('dist/pincer.mjs', () => {
  it('imports the SDKs only with import(), never statically', async () => {
    const bundle = await readFile(BUNDLE, 'utf8');
    for (const name of LAZY_PACKAGES) {
      const escaped = name.replace(/[/.]/g, '\\$&');
      const staticImport = new RegExp(`^\\s*import\\b[^()]*?from\\s*["']${escaped}(/[^"']*)?["']`, 'm');
      assert.doesNotMatch(bundle, staticImport, `${name} is imported statically`);
      assert.match(bundle, new RegExp(`import\\(["']${escaped}(/[^"']*)?["']\\)`), `${name} is loaded with import()`);
      assert.ok(!bundle.includes(`node_modules/${name}/`), `${name} is bundled instead of left external`);
    }
  });
});
