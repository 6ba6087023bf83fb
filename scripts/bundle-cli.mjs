#!/usr/bin/env node
// Bundles the CLI and the gateway into one file, dist/pincer.mjs, which `bin`
// and `npm start` run. Node then loads one module instead of a few hundred,
// which halves the time to /ready and trims idle memory. The provider SDKs
// and croner stay outside: they load from node_modules on first use.
// Usage: node scripts/bundle-cli.mjs [--outfile <file>]

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Loaded lazily at run time; bundling them would only make the file larger. */
const LAZY_PACKAGES = ['openai', '@anthropic-ai/sdk', 'croner'];
/** CommonJS dependencies (ws) call require(); an ESM bundle needs one made for it. */
const REQUIRE_SHIM = "import { createRequire as pincerCreateRequire } from 'node:module'; const require = pincerCreateRequire(import.meta.url);";

const outfile = path.resolve(readOutFile(process.argv.slice(2)));
await build({
  absWorkingDir: ROOT,
  entryPoints: [path.join(ROOT, 'src', 'cli', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: LAZY_PACKAGES,
  banner: { js: REQUIRE_SHIM },
  sourcemap: false,
  logLevel: 'warning',
});
console.log(`cli: bundled into ${path.relative(process.cwd(), outfile) || outfile}`);

function readOutFile(args) {
  const at = args.indexOf('--outfile');
  if (at === -1) return path.join(ROOT, 'dist', 'pincer.mjs');
  const value = args[at + 1];
  if (!value) throw new Error('--outfile needs a file');
  return value;
}
