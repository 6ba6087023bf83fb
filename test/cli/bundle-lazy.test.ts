/**
 * The bundled CLI (dist/pincer.mjs) must load the provider SDKs and the MCP
 * SDK only on first use, from their own files in dist/vendor/: a static
 * import, or the SDK's code inside pincer.mjs, would cost every start-up.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';

const BUNDLE = new URL('../../pincer.mjs', import.meta.url);
const VENDOR_FILES = ['openai', 'anthropic-sdk', 'mcp-sdk', 'telegram'];
const PACKAGES = ['openai', '@anthropic-ai/sdk', '@modelcontextprotocol/sdk', 'grammy'];

describe('dist/pincer.mjs', () => {
  it('loads each SDK from dist/vendor/ with import(), never statically', async () => {
    const bundle = await readFile(BUNDLE, 'utf8');
    for (const file of VENDOR_FILES) {
      const path = `./vendor/${file}.mjs`;
      assert.ok((await stat(new URL(`../../vendor/${file}.mjs`, import.meta.url))).size > 0, `${path} exists`);
      assert.ok(bundle.includes(`import("${path}")`), `${path} is loaded with import()`);
      assert.doesNotMatch(bundle, new RegExp(`^\\s*import\\b[^()]*?from\\s*["']${path.replace(/[./]/g, '\\$&')}["']`, 'm'), `${path} is imported statically`);
    }
    for (const name of PACKAGES) {
      assert.ok(!bundle.includes(`node_modules/${name}/`), `${name} is bundled into pincer.mjs`);
      assert.ok(!bundle.includes(`from "${name}`) && !bundle.includes(`import("${name}`), `${name} is imported by name`);
    }
  });

  it('keeps the Telegram channel\'s code (and grammY) in vendor/telegram.mjs', async () => {
    const bundle = await readFile(BUNDLE, 'utf8');
    const vendor = await readFile(new URL('../../vendor/telegram.mjs', import.meta.url), 'utf8');
    // Markers of the channel's own modules: the poller, the ledger and the reply streamer.
    for (const marker of ['getUpdates', 'ingress.json', 'editMessageText']) {
      assert.ok(vendor.includes(marker), `vendor/telegram.mjs holds ${marker}`);
      assert.ok(!bundle.includes(marker), `pincer.mjs holds ${marker}`);
    }
    assert.ok(vendor.includes('api.telegram.org') || vendor.includes('GrammyError'), 'grammY is inside vendor/telegram.mjs');
  });
});
