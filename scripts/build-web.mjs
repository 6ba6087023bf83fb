#!/usr/bin/env node
// Bundles the web chat (src/web) into dist/web: index.html plus content-hashed
// assets under assets/, so the gateway can cache them forever. Nothing is loaded
// from a CDN. Usage: node scripts/build-web.mjs [--outdir <dir>]

import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = path.join(ROOT, 'src', 'web');
const HASH_CHARS = 10;
/** Browsers with module scripts, private fields and optional chaining. */
const TARGETS = ['es2022', 'chrome100', 'firefox100', 'safari15.4'];

const outDir = path.resolve(readOutDir(process.argv.slice(2)));
const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));

const result = await build({
  absWorkingDir: ROOT,
  // The highlighter is its own file: the page imports it only when a reply shows a code block with a language.
  entryPoints: { app: path.join(SRC, 'app.ts'), 'app-style': path.join(SRC, 'app.css'), highlight: path.join(SRC, 'highlight.ts') },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: TARGETS,
  minify: true,
  sourcemap: false,
  charset: 'utf8',
  write: false,
  outdir: 'out',
  define: { __PINCER_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});

const js = pickOutput(result.outputFiles, 'app.js');
const css = pickOutput(result.outputFiles, 'app-style.css');
const highlighter = pickOutput(result.outputFiles, 'highlight.js');
const favicon = await readFile(path.join(SRC, 'favicon.svg'));

const assets = [
  { ref: '/assets/app.js', name: 'app', ext: '.js', bytes: js },
  { ref: '/assets/app.css', name: 'app', ext: '.css', bytes: css },
  { ref: '/assets/highlight.js', name: 'highlight', ext: '.js', bytes: highlighter },
  { ref: '/assets/favicon.svg', name: 'favicon', ext: '.svg', bytes: favicon },
];

let html = await readFile(path.join(SRC, 'index.html'), 'utf8');
await rm(outDir, { recursive: true, force: true });
await mkdir(path.join(outDir, 'assets'), { recursive: true });
for (const asset of assets) {
  const hash = createHash('sha256').update(asset.bytes).digest('hex').slice(0, HASH_CHARS);
  const file = `${asset.name}-${hash}${asset.ext}`;
  if (!html.includes(asset.ref)) throw new Error(`src/web/index.html does not reference ${asset.ref}`);
  html = html.replaceAll(asset.ref, `/assets/${file}`);
  await writeFile(path.join(outDir, 'assets', file), asset.bytes);
  console.log(`web: assets/${file} ${(asset.bytes.length / 1024).toFixed(1)} KiB`);
}
await writeFile(path.join(outDir, 'index.html'), html);
console.log(`web: built into ${path.relative(process.cwd(), outDir) || '.'}`);

function readOutDir(args) {
  const at = args.indexOf('--outdir');
  if (at === -1) return path.join(ROOT, 'dist', 'web');
  const value = args[at + 1];
  if (!value) throw new Error('--outdir needs a directory');
  return value;
}

function pickOutput(files, name) {
  const file = files.find((f) => path.basename(f.path) === name);
  if (!file) throw new Error(`esbuild produced no ${name}`);
  return Buffer.from(file.contents);
}
