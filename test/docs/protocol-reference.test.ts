/**
 * docs/protocol.md must list everything Pincer puts on the wire: the methods and
 * events a live gateway advertises in hello-ok, and every error and close code
 * in src/protocol/. A new method fails here until its row is added to §3.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '../../src/protocol/errors.js';
import * as closeCodes from '../../src/protocol/close-codes.js';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';

/** The repository root: two levels above this file from source, three from dist/. */
const ROOT = new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url);
const DOC_PATH = fileURLToPath(new URL('docs/protocol.md', ROOT));
const SRC_DIR = fileURLToPath(new URL('src/', ROOT));

/** Names in backticks in the first column of the doc's tables: `| \`chat.send\` | …`. */
function firstColumnNames(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const line of markdown.split('\n')) {
    const cell = /^\|\s*([^|]+?)\s*\|/.exec(line)?.[1];
    if (cell === undefined) continue;
    for (const match of cell.matchAll(/`([^`]+)`/g)) names.add(match[1]);
  }
  return names;
}

function section(markdown: string, heading: RegExp): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => heading.test(line));
  assert.ok(start >= 0, `docs/protocol.md has no heading matching ${heading}`);
  const level = /^#+/.exec(lines[start])?.[0].length ?? 2;
  const end = lines.findIndex((line, index) => index > start && new RegExp(`^#{1,${level}} `).test(line));
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => `${entry.parentPath ?? entry.path}/${entry.name}`);
}

describe('docs/protocol.md', () => {
  let doc: string;
  let gateway: StartedGateway;
  let hello: { features: { methods: string[]; events: string[] } };

  before(async () => {
    doc = await readFile(DOC_PATH, 'utf8');
    gateway = await startGateway();
    const client = await ProtocolClient.open(gateway.wsUrl);
    const res = await client.connect({ token: gateway.token });
    assert.equal(res.ok, true);
    hello = res.payload as typeof hello;
    client.ws.close();
  });
  after(async () => {
    await gateway?.close();
  });

  it('lists in §3 every method hello-ok.features.methods advertises', () => {
    const documented = firstColumnNames(section(doc, /^## 3\. Methods/));
    const missing = hello.features.methods.filter((method) => !documented.has(method));
    assert.deepEqual(missing, [], `add a row for each of these to the table in docs/protocol.md §3: ${missing.join(', ')}`);
    assert.ok(hello.features.methods.length >= 20, 'the gateway advertised its methods');
  });

  it('lists in §3 no method the gateway does not implement, besides connect', () => {
    const documented = [...firstColumnNames(section(doc, /^## 3\. Methods/))].filter((name) => /^[a-z][a-zA-Z.]*$/.test(name));
    const extra = documented.filter((name) => name !== 'connect' && !hello.features.methods.includes(name));
    assert.deepEqual(extra, [], 'documented methods the gateway does not advertise');
  });

  it('lists in §4 every event hello-ok.features.events advertises', () => {
    const documented = firstColumnNames(section(doc, /^## 4\. Events/));
    const missing = hello.features.events.filter((event) => !documented.has(event));
    assert.deepEqual(missing, [], `add these events to docs/protocol.md §4: ${missing.join(', ')}`);
  });

  it('lists in §1.2 every top-level error code and every details.code the source sends', async () => {
    const documented = firstColumnNames(section(doc, /^### 1\.2 /));
    const detailCodes = new Set<string>();
    for (const file of await sourceFiles(SRC_DIR)) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/details: \{ code: '([A-Z_]+)'|authError\([^)]*'([A-Z_]+)'|'(DEVICE_AUTH_[A-Z_]+)'/g)) {
        detailCodes.add(match[1] ?? match[2] ?? match[3]);
      }
    }
    assert.ok(detailCodes.size >= 10, `found the detail codes in src/ (${[...detailCodes].join(', ')})`);
    const missing = [...ERROR_CODES, ...detailCodes].filter((code) => !documented.has(code));
    assert.deepEqual(missing, [], 'codes missing from docs/protocol.md §1.2');
  });

  it('lists in §1.3 every close code in src/protocol/close-codes.ts', () => {
    const documented = firstColumnNames(section(doc, /^### 1\.3 /));
    const rows = new Set([...section(doc, /^### 1\.3 /).matchAll(/^\|\s*(\d{4})\s*\|/gm)].map((match) => Number(match[1])));
    const codes = Object.entries(closeCodes).filter(([name, value]) => name.startsWith('CLOSE_') && typeof value === 'number');
    const missing = codes.filter(([, code]) => !rows.has(code as number)).map(([name]) => name);
    assert.deepEqual(missing, [], 'close codes missing from docs/protocol.md §1.3');
    assert.ok(documented !== undefined);
  });

  it('is the document source comments cite', async () => {
    const stale: string[] = [];
    for (const file of await sourceFiles(SRC_DIR)) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/(\S*)protocol\.md §/g)) if (!match[1].endsWith('docs/')) stale.push(`${file}: ${match[0]}`);
    }
    assert.deepEqual(stale, [], 'cite the project reference as docs/protocol.md §N');
  });

  it('has every section the source cites', async () => {
    const headings = new Set([...doc.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((match) => match[1]));
    const missing = new Set<string>();
    for (const file of await sourceFiles(SRC_DIR)) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/docs\/protocol\.md §(\d+(?:\.\d+)?)/g)) if (!headings.has(match[1])) missing.add(`§${match[1]} (${file})`);
    }
    assert.deepEqual([...missing], []);
  });
});
