import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileTools, READ_FILE_MAX_CHARS } from '../../../src/agent/tools/file-tools.js';
import { Workspace } from '../../../src/agent/tools/workspace-path.js';
import type { AgentTool } from '../../../src/agent/tools/agent-tool.js';
import type { ToolOutcome } from '../../../src/agent/tool-types.js';

let root: string;
let workspaceDir: string;
let outside: string;
let tools: ReturnType<typeof createFileTools>;
const signal = new AbortController().signal;

function text(outcome: ToolOutcome): string {
  return outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

async function run(tool: AgentTool, args: Record<string, unknown>): Promise<string> {
  return text(await tool.execute(args, signal));
}

async function refuses(tool: AgentTool, args: Record<string, unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(tool.execute(args, signal), (error: Error) => {
    assert.match(error.message, pattern);
    // Only a path the model gave may be echoed; the workspace location is never revealed.
    if (typeof args.path !== 'string' || !args.path.startsWith('/')) assert.ok(!error.message.includes(root), `no absolute path in "${error.message}"`);
    return true;
  });
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pincer-file-tools-'));
  workspaceDir = join(root, 'workspace');
  outside = join(root, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'top secret');
  tools = createFileTools(new Workspace(workspaceDir));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('file tools', () => {
  it('round-trips write, read, edit and list in the workspace', async () => {
    assert.equal(await run(tools.writeFile, { path: 'notes/a.txt', content: 'one\ntwo\nthree\n' }), 'wrote 14 bytes to notes/a.txt');
    assert.equal(await readFile(join(workspaceDir, 'notes/a.txt'), 'utf8'), 'one\ntwo\nthree\n');
    assert.equal(await run(tools.readFile, { path: 'notes/a.txt' }), 'one\ntwo\nthree\n');
    assert.equal(await run(tools.readFile, { path: join(workspaceDir, 'notes', 'a.txt'), offset: 2, limit: 1 }), 'two\n\n[lines 2-2 of 3; call read_file with offset=3 to read more]');
    assert.equal(await run(tools.editFile, { path: 'notes/a.txt', old_text: 'two', new_text: '$& 2' }), 'replaced 1 occurrence in notes/a.txt');
    assert.equal(await run(tools.readFile, { path: 'notes/./a.txt' }), 'one\n$& 2\nthree\n');
    assert.equal(await run(tools.listDir, {}), 'notes/');
    assert.equal(await run(tools.listDir, { path: 'notes' }), 'a.txt (15 bytes)');
  });

  it('edits a unique match only, unless replace_all', async () => {
    await run(tools.writeFile, { path: 'b.txt', content: 'x-x-x' });
    await refuses(tools.editFile, { path: 'b.txt', old_text: 'x', new_text: 'y' }, /occurs 3 times in b\.txt/);
    await refuses(tools.editFile, { path: 'b.txt', old_text: 'z', new_text: 'y' }, /old_text not found in b\.txt/);
    assert.equal(await run(tools.editFile, { path: 'b.txt', old_text: 'x', new_text: 'y', replace_all: true }), 'replaced 3 occurrences in b.txt');
    assert.equal(await readFile(join(workspaceDir, 'b.txt'), 'utf8'), 'y-y-y');
  });

  it('refuses .. and absolute paths outside the workspace', async () => {
    await refuses(tools.readFile, { path: '../outside/secret.txt' }, /outside the workspace/);
    await refuses(tools.readFile, { path: 'notes/../../outside/secret.txt' }, /outside the workspace/);
    await refuses(tools.readFile, { path: join(outside, 'secret.txt') }, /outside the workspace/);
    await refuses(tools.writeFile, { path: '../escape.txt', content: 'x' }, /outside the workspace/);
    await refuses(tools.listDir, { path: '..' }, /outside the workspace/);
    await refuses(tools.editFile, { path: '/etc/hostname', old_text: 'a', new_text: 'b' }, /outside the workspace/);
  });

  it('refuses symbolic links that lead out, also dangling ones and links in parent directories', async () => {
    await symlink(join(outside, 'secret.txt'), join(workspaceDir, 'link.txt'));
    await symlink(outside, join(workspaceDir, 'linkdir'));
    await symlink(join(outside, 'new.txt'), join(workspaceDir, 'dangling.txt'));
    await refuses(tools.readFile, { path: 'link.txt' }, /through a symbolic link/);
    await refuses(tools.writeFile, { path: 'link.txt', content: 'overwritten' }, /through a symbolic link/);
    await refuses(tools.readFile, { path: 'linkdir/secret.txt' }, /through a symbolic link/);
    await refuses(tools.writeFile, { path: 'linkdir/new.txt', content: 'x' }, /through a symbolic link/);
    await refuses(tools.listDir, { path: 'linkdir' }, /through a symbolic link/);
    await refuses(tools.writeFile, { path: 'dangling.txt', content: 'x' }, /dangling symbolic link/);
    assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), 'top secret');
    await assert.rejects(readFile(join(outside, 'new.txt')), { code: 'ENOENT' });
  });

  it('follows a symbolic link that stays inside the workspace', async () => {
    await run(tools.writeFile, { path: 'real.txt', content: 'inside' });
    await symlink(join(workspaceDir, 'real.txt'), join(workspaceDir, 'alias.txt'));
    assert.equal(await run(tools.readFile, { path: 'alias.txt' }), 'inside');
  });

  it('gives clear errors for missing files, directories, binary files and bad arguments', async () => {
    await refuses(tools.readFile, { path: 'missing.txt' }, /^missing\.txt: not found$/);
    await refuses(tools.readFile, { path: 'notes' }, /notes is a directory; use list_dir/);
    await writeFile(join(workspaceDir, 'bin.dat'), Buffer.from([1, 0, 2]));
    await refuses(tools.readFile, { path: 'bin.dat' }, /binary file/);
    await refuses(tools.readFile, {}, /invalid arguments: missing required argument path/);
    await refuses(tools.readFile, { path: 'a', offset: 0 }, /offset: must be at least 1/);
    await refuses(tools.readFile, { path: 42 }, /path: expected a path string/);
    await refuses(tools.writeFile, { path: 'x.txt', content: 'x', mode: 'append' }, /unknown argument mode/);
    await refuses(tools.readFile, { path: 'a\0b' }, /NUL/);
  });

  it('refuses a FIFO without waiting for the other end', { timeout: 10_000 }, async () => {
    await mkdir(join(workspaceDir, 'fifo'), { recursive: true });
    execFileSync('mkfifo', [join(workspaceDir, 'fifo', 'pipe')]);
    await refuses(tools.readFile, { path: 'fifo/pipe' }, /^fifo\/pipe:? is not a regular file$/);
    await refuses(tools.writeFile, { path: 'fifo/pipe', content: 'x' }, /^fifo\/pipe:? is not a regular file$/);
    await refuses(tools.editFile, { path: 'fifo/pipe', old_text: 'a', new_text: 'b' }, /^fifo\/pipe:? is not a regular file$/);
  });

  it('reads a long file in parts', async () => {
    const line = 'y'.repeat(999);
    await run(tools.writeFile, { path: 'long.txt', content: `${line}\n`.repeat(150) });
    const first = await run(tools.readFile, { path: 'long.txt' });
    assert.ok(first.length <= READ_FILE_MAX_CHARS + 200);
    const match = /\[lines 1-(\d+) of 150; call read_file with offset=(\d+) to read more\]$/.exec(first);
    assert.ok(match, first.slice(-200));
    const rest = await run(tools.readFile, { path: 'long.txt', offset: Number(match[2]) });
    assert.equal(rest, `${line}\n`.repeat(150 - Number(match[1])));
  });
});
