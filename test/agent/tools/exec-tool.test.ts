import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExecEnv } from '../../../src/agent/tools/exec-env.js';
import { createExecTool } from '../../../src/agent/tools/exec-tool.js';
import { Workspace } from '../../../src/agent/tools/workspace-path.js';
import type { ToolOutcome } from '../../../src/agent/tool-types.js';

let root: string;
const signal = new AbortController().signal;

function text(outcome: ToolOutcome): string {
  return outcome.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pincer-exec-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('exec tool', () => {
  it('runs a command in the workspace and returns output and exit code', async () => {
    const workspace = new Workspace(join(root, 'ws1'));
    const tool = createExecTool(workspace, { timeoutMs: 10_000, maxOutputBytes: 4096 });
    const ok = await tool.execute({ command: 'echo hello > out.txt; cat out.txt; pwd; echo oops >&2' }, signal);
    assert.equal(ok.isError, false);
    assert.equal(text(ok), `hello\n${await workspace.realRoot()}\noops\n[exit code 0]`);
    assert.equal(await readFile(join(root, 'ws1', 'out.txt'), 'utf8'), 'hello\n');
    const failed = await tool.execute({ command: 'exit 3' }, signal);
    assert.equal(failed.isError, true);
    assert.equal(text(failed), '[exit code 3]');
  });

  it('kills a command at the timeout, with what it started', async () => {
    const tool = createExecTool(new Workspace(join(root, 'ws2')), { timeoutMs: 300, maxOutputBytes: 4096 });
    const started = Date.now();
    const outcome = await tool.execute({ command: 'echo begun; sleep 30 & sleep 30' }, signal);
    assert.ok(Date.now() - started < 10_000, 'returned long before the sleeps would end');
    assert.equal(outcome.isError, true);
    assert.equal(text(outcome), 'begun\n[timed out after 300 ms; the command was killed]');
  });

  it('returns when the command exits while a process outside its group still holds the output open', async () => {
    const tool = createExecTool(new Workspace(join(root, 'ws7')), { timeoutMs: 30_000, maxOutputBytes: 4096 });
    // A new session escapes the group kill and keeps the inherited stdout pipe open.
    const escape = `const c = require('node:child_process').spawn('sleep', ['30'], { detached: true, stdio: ['ignore', 'inherit', 'ignore'] }); c.unref(); console.log(c.pid)`;
    const started = Date.now();
    const outcome = await tool.execute({ command: `${JSON.stringify(process.execPath)} -e ${JSON.stringify(escape)}` }, signal);
    const elapsed = Date.now() - started;
    const pid = Number(/^(\d+)\n/.exec(text(outcome))?.[1]);
    if (pid > 0) process.kill(pid, 'SIGKILL');
    assert.ok(elapsed < 10_000, `did not wait for the escaped process (${elapsed} ms)`);
    assert.match(text(outcome), /^\d+\n\[exit code 0\]$/);
  });

  it('stops a command when the run is aborted', async () => {
    const tool = createExecTool(new Workspace(join(root, 'ws3')), { timeoutMs: 30_000, maxOutputBytes: 4096 });
    const controller = new AbortController();
    const running = tool.execute({ command: 'sleep 30' }, controller.signal);
    setTimeout(() => controller.abort(), 100);
    const outcome = await running;
    assert.equal(outcome.isError, true);
    assert.match(text(outcome), /the run was stopped; the command was killed/);
  });

  it('caps the output and says how much was dropped', async () => {
    const tool = createExecTool(new Workspace(join(root, 'ws4')), { timeoutMs: 10_000, maxOutputBytes: 1024 });
    const outcome = await tool.execute({ command: 'head -c 5000 /dev/zero | tr "\\0" x' }, signal);
    assert.equal(text(outcome), `${'x'.repeat(1024)}\n[output truncated: 5000 bytes, showing the first 1024]\n[exit code 0]`);
  });

  it('does not pass Pincer settings or secret-looking variables to the command', async () => {
    const env = { PATH: process.env.PATH, HOME: '/home/x', PINCER_TOKEN: 't', OPENAI_API_KEY: 'k', GITHUB_TOKEN: 'g', DB_PASSWORD: 'p', LANG: 'C' };
    assert.deepEqual(buildExecEnv(env), { PATH: process.env.PATH, HOME: '/home/x', LANG: 'C' });
    const tool = createExecTool(new Workspace(join(root, 'ws5')), { timeoutMs: 10_000, maxOutputBytes: 4096, env });
    assert.equal(text(await tool.execute({ command: 'echo "[$OPENAI_API_KEY$PINCER_TOKEN]$LANG"' }, signal)), '[]C\n[exit code 0]');
  });

  it('rejects a missing or empty command', async () => {
    const tool = createExecTool(new Workspace(join(root, 'ws6')), { timeoutMs: 10_000, maxOutputBytes: 4096 });
    await assert.rejects(tool.execute({}, signal), /missing required argument command/);
    await assert.rejects(tool.execute({ command: '  ' }, signal), /command: must not be empty/);
  });
});
