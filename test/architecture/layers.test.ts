/**
 * The layering of docs/architecture.md, checked on the source: each folder
 * imports only from its own layer or below, channels never import each other
 * or the gateway, messages/ imports nothing, and no file imports itself
 * through a cycle.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: two levels above this file from source, three from dist/. */
const ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url));
const SRC = join(ROOT, 'src');

/** Lowest first; a folder may import its own rank or lower. */
const RANKS: Record<string, number> = {
  messages: 0,
  util: 0,
  protocol: 1,
  config: 1,
  providers: 2,
  sessions: 2,
  bus: 2,
  security: 2,
  agent: 3,
  mcp: 3,
  assistant: 4,
  cron: 4,
  gateway: 5,
  channels: 5,
  cli: 6,
  main: 6,
  'start-assistant': 6,
};

interface SourceFile {
  path: string;
  layer: string;
  imports: string[];
}

function readSources(): SourceFile[] {
  const files: SourceFile[] = [];
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = relative(SRC, join(entry.parentPath ?? entry.path, entry.name));
    if (path.startsWith('web/')) continue; // the browser app, bundled on its own
    const text = readFileSync(join(SRC, path), 'utf8');
    const imports = [...text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((match) =>
      normalize(join(dirname(path), match[1]!)).replace(/\.js$/, '.ts'),
    );
    files.push({ path, layer: layerOf(path), imports });
  }
  return files;
}

function layerOf(path: string): string {
  const [first, ...rest] = path.split('/');
  return rest.length === 0 ? first!.replace(/\.ts$/, '') : first!;
}

describe('layers (docs/architecture.md)', () => {
  const files = readSources();

  it('knows every folder of src/', () => {
    const unknown = [...new Set(files.map((file) => file.layer))].filter((layer) => RANKS[layer] === undefined);
    assert.deepEqual(unknown, [], 'give each new folder a rank here and a row in docs/architecture.md');
    assert.ok(files.length > 100, `read the sources (${files.length} files)`);
  });

  it('imports only from the same layer or below', () => {
    const upward: string[] = [];
    for (const file of files) {
      for (const target of file.imports) {
        const to = layerOf(target);
        if ((RANKS[to] ?? 0) > (RANKS[file.layer] ?? 0)) upward.push(`${file.path} → ${target}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('keeps messages/ a leaf, and channels apart from each other and from the gateway', () => {
    const wrong: string[] = [];
    for (const file of files) {
      for (const target of file.imports) {
        const to = layerOf(target);
        if (file.layer === 'messages' && to !== 'messages') wrong.push(`${file.path} → ${target}`);
        if ((file.layer === 'channels' && to === 'gateway') || (file.layer === 'gateway' && to === 'channels')) {
          wrong.push(`${file.path} → ${target}`);
        }
        if (file.layer === 'channels' && to === 'channels') {
          const from = file.path.split('/')[1];
          const into = target.split('/')[1];
          // channels/channel-host.ts is the shared contract, not a channel.
          if (into !== 'channel-host.ts' && from !== into && from !== 'channel-host.ts') wrong.push(`${file.path} → ${target}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('has no import cycles', () => {
    const byPath = new Map(files.map((file) => [file.path, file]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (path: string, trail: string[]): void => {
      const seen = state.get(path);
      if (seen === 'done') return;
      if (seen === 'open') {
        cycles.push([...trail.slice(trail.indexOf(path)), path].join(' → '));
        return;
      }
      state.set(path, 'open');
      for (const target of byPath.get(path)?.imports ?? []) if (byPath.has(target)) visit(target, [...trail, path]);
      state.set(path, 'done');
    };
    for (const file of files) visit(file.path, []);
    assert.deepEqual(cycles, []);
  });
});
