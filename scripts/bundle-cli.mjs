#!/usr/bin/env node
// Bundles the CLI and the gateway into one file, dist/pincer.mjs, which `bin`
// and `npm start` run. Node then loads one module instead of a few hundred,
// which halves the time to /ready and trims idle memory. The provider SDKs
// and croner (the scheduler's cron parser) are bundled on their own into dist/vendor/, which pincer.mjs imports on the
// first model call. Every runtime dependency is inside these files, so the
// package declares none and a packed tarball installs without a registry.
// Usage: node scripts/bundle-cli.mjs [--outfile <file>]

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Packages loaded lazily at run time, each bundled into vendor/<file>.mjs beside pincer.mjs. */
const LAZY_PACKAGES = { openai: 'openai', '@anthropic-ai/sdk': 'anthropic-sdk', croner: 'croner' };
/** Lazy packages with named exports only (re-exporting a default would fail the build). */
const WITHOUT_DEFAULT_EXPORT = new Set(['croner']);
/** CommonJS dependencies (ws) call require(); an ESM bundle needs one made for it. */
const REQUIRE_SHIM = "import { createRequire as pincerCreateRequire } from 'node:module'; const require = pincerCreateRequire(import.meta.url);";
const COMMON = { bundle: true, platform: 'node', format: 'esm', target: 'node20', banner: { js: REQUIRE_SHIM }, sourcemap: false, logLevel: 'warning' };

const outfile = path.resolve(readOutFile(process.argv.slice(2)));
const vendorDir = path.join(path.dirname(outfile), 'vendor');

for (const [name, file] of Object.entries(LAZY_PACKAGES)) {
  await build({
    ...COMMON,
    absWorkingDir: ROOT,
    stdin: {
      contents: `export * from '${name}';\n${WITHOUT_DEFAULT_EXPORT.has(name) ? '' : `export { default } from '${name}';\n`}`,
      resolveDir: ROOT,
      loader: 'js',
    },
    outfile: path.join(vendorDir, `${file}.mjs`),
    minify: true,
  });
}

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
  const names = Object.keys(LAZY_PACKAGES);
  const filter = new RegExp(`^(${names.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
  return {
    name: 'vendor-imports',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter }, (args) => ({ path: `./vendor/${LAZY_PACKAGES[args.path]}.mjs`, external: true }));
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
