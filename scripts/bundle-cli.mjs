#!/usr/bin/env node
// Bundles the CLI and the gateway into one file, dist/pincer.mjs, which `bin`
// and `npm start` run. Node then loads one module instead of a few hundred,
// which halves the time to /ready and trims idle memory. The provider SDKs
// are bundled on their own into dist/vendor/, which pincer.mjs imports on the
// first model call. So is the MCP SDK (vendor/mcp-sdk.mjs), imported only
// when an MCP server is configured, and croner (vendor/croner.mjs), imported
// when the scheduler starts. The Telegram channel's code, with grammY, is
// bundled into vendor/telegram.mjs and imported only when the channel is
// enabled (TELEGRAM_ENTRY below). Every runtime dependency is inside these
// files, so the package declares none and a packed tarball installs without a
// registry. Source code may load these packages only with import() (or
// `import type`): a static import would load them at every start-up.
// Usage: node scripts/bundle-cli.mjs [--outfile <file>]

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Packages loaded lazily at run time, each bundled into vendor/<file>.mjs beside pincer.mjs. */
const LAZY_PACKAGES = { openai: 'openai', '@anthropic-ai/sdk': 'anthropic-sdk' };
/** Stands in for the fetch classes the SDKs name, which would load Node's fetch stack (see the module's comment). */
const SDK_FETCH_GLOBALS = path.join(ROOT, 'src', 'providers', 'sdk-fetch-globals.ts');
/** The MCP SDK modules src/mcp/ imports, with the names it uses, bundled together into vendor/mcp-sdk.mjs. */
const MCP_SDK_MODULES = {
  '@modelcontextprotocol/sdk/client/index.js': ['Client'],
  '@modelcontextprotocol/sdk/client/streamableHttp.js': ['StreamableHTTPClientTransport'],
  '@modelcontextprotocol/sdk/client/sse.js': ['SSEClientTransport'],
  '@modelcontextprotocol/sdk/types.js': ['JSONRPCMessageSchema'],
};
const MCP_SDK_FILE = 'mcp-sdk';
/** The Telegram channel: index.ts imports this module with import(); it and grammY become vendor/telegram.mjs. */
const TELEGRAM_ENTRY = { importer: path.join('src', 'channels', 'telegram', 'index.ts'), specifier: './telegram-runtime.js', source: 'src/channels/telegram/telegram-runtime.ts', file: 'telegram' };
/** croner has no default export: its vendor file re-exports the names src/cron/ uses. */
const CRONER_EXPORTS = ['Cron'];
/** Import specifier → vendor file that serves it. */
const VENDOR_FILES = { ...LAZY_PACKAGES, croner: 'croner', ...Object.fromEntries(Object.keys(MCP_SDK_MODULES).map((name) => [name, MCP_SDK_FILE])) };
/** CommonJS dependencies (ws) call require(); an ESM bundle needs one made for it. */
const REQUIRE_SHIM = "import { createRequire as pincerCreateRequire } from 'node:module'; const require = pincerCreateRequire(import.meta.url);";
const COMMON = { bundle: true, platform: 'node', format: 'esm', target: 'node20', banner: { js: REQUIRE_SHIM }, sourcemap: false, logLevel: 'warning' };

const outfile = path.resolve(readOutFile(process.argv.slice(2)));
const vendorDir = path.join(path.dirname(outfile), 'vendor');

for (const [name, file] of Object.entries(LAZY_PACKAGES)) {
  await build({
    ...COMMON,
    absWorkingDir: ROOT,
    stdin: { contents: `export * from '${name}';\nexport { default } from '${name}';\n`, resolveDir: ROOT, loader: 'js' },
    outfile: path.join(vendorDir, `${file}.mjs`),
    inject: [SDK_FETCH_GLOBALS],
    minify: true,
  });
}
await build({
  ...COMMON,
  absWorkingDir: ROOT,
  stdin: {
    contents: Object.entries(MCP_SDK_MODULES).map(([name, exports]) => `export { ${exports.join(', ')} } from '${name}';`).join('\n'),
    resolveDir: ROOT,
    loader: 'js',
  },
  outfile: path.join(vendorDir, `${MCP_SDK_FILE}.mjs`),
  minify: true,
});
await build({
  ...COMMON,
  absWorkingDir: ROOT,
  stdin: { contents: `export { ${CRONER_EXPORTS.join(', ')} } from 'croner';`, resolveDir: ROOT, loader: 'js' },
  outfile: path.join(vendorDir, 'croner.mjs'),
  minify: true,
});

await build({
  ...COMMON,
  absWorkingDir: ROOT,
  entryPoints: [path.join(ROOT, TELEGRAM_ENTRY.source)],
  outfile: path.join(vendorDir, `${TELEGRAM_ENTRY.file}.mjs`),
  minify: true,
});

await build({
  ...COMMON,
  absWorkingDir: ROOT,
  entryPoints: [path.join(ROOT, 'src', 'cli', 'main.ts')],
  outfile,
  plugins: [vendorImports()],
});
console.log(`cli: bundled into ${path.relative(process.cwd(), outfile) || outfile} (+ vendor/)`);

/** Turns `import('openai')` into `import('./vendor/openai.mjs')`, so the SDK stays out of pincer.mjs and loads on demand. */
function vendorImports() {
  const names = Object.keys(VENDOR_FILES);
  const filter = new RegExp(`^(${names.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
  return {
    name: 'vendor-imports',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter }, (args) => ({ path: `./vendor/${VENDOR_FILES[args.path]}.mjs`, external: true }));
      pluginBuild.onResolve({ filter: /^\.\/telegram-runtime\.js$/ }, (args) =>
        args.importer.endsWith(TELEGRAM_ENTRY.importer) ? { path: `./vendor/${TELEGRAM_ENTRY.file}.mjs`, external: true } : undefined,
      );
    },
  };
}

function readOutFile(args) {
  const at = args.indexOf('--outfile');
  if (at === -1) return path.join(ROOT, 'dist', 'pincer.mjs');
  const value = args[at + 1];
  if (!value) throw new Error('--outfile needs a file');
  return value;
}
