import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/config-error.js';
import { loadConfig } from '../../../src/config/load-config.js';
import type { FileConfig } from '../../../src/config/schema.js';
import { enabledToolNames } from '../../../src/agent/tools/enabled-tools.js';

let root: string;
let counter = 0;

async function loadWith(file: unknown, overrides?: FileConfig) {
  const stateDir = join(root, `state-${counter++}`);
  await mkdir(stateDir, { recursive: true });
  if (file !== undefined) await writeFile(join(stateDir, 'config.json'), JSON.stringify(file));
  return loadConfig({ env: {}, flags: { stateDir }, overrides });
}

async function rejects(file: unknown, field: string, includes: string): Promise<void> {
  await assert.rejects(loadWith(file), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.field, field);
    assert.ok(error.message.includes(includes), error.message);
    return true;
  });
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pincer-tools-config-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('tools config', () => {
  it('enables the file tools, web_fetch and cron by default, exec off, workspace in the state dir', async () => {
    const config = await loadWith(undefined);
    assert.deepEqual(enabledToolNames(config), ['read_file', 'write_file', 'edit_file', 'list_dir', 'web_fetch', 'cron']);
    assert.equal(config.tools.maxIterations, 20);
    assert.equal(config.tools.exec.enabled, false);
    assert.equal(config.tools.webFetch.allowPrivateNetwork, false);
    assert.equal(config.agent.workspaceDir, join(config.stateDir, 'workspace'));
  });

  it('merges each tool section over its defaults, later layers winning', async () => {
    const config = await loadWith(
      { tools: { exec: { enabled: true, timeoutMs: 5_000 }, readFile: { enabled: false }, maxIterations: 7 } },
      { tools: { exec: { maxOutputBytes: 2048 }, webFetch: { enabled: false } } },
    );
    assert.deepEqual(config.tools.exec, { enabled: true, timeoutMs: 5_000, maxOutputBytes: 2048, sandbox: 'auto', network: false, env: [] });
    assert.equal(config.tools.maxIterations, 7);
    assert.deepEqual(enabledToolNames(config), ['write_file', 'edit_file', 'list_dir', 'exec', 'cron']);
    assert.ok(Object.isFrozen(config.tools.exec));
  });

  it('rejects unknown keys and bad values, naming the field', async () => {
    await rejects({ tools: { shell: { enabled: true } } }, 'tools.shell', 'unknown key tools.shell');
    await rejects({ tools: { exec: { enabled: true, allowRoot: true } } }, 'tools.exec.allowRoot', 'unknown key');
    await rejects({ tools: { exec: { enabled: true, sandbox: true } } }, 'tools.exec.sandbox', 'expected one of auto, bwrap, none');
    await rejects({ tools: { exec: { env: ['DATABASE URL'] } } }, 'tools.exec.env.0', 'expected a variable name');
    await rejects({ tools: { exec: { enabled: 'yes' } } }, 'tools.exec.enabled', 'expected true or false');
    await rejects({ tools: { exec: { timeoutMs: 0 } } }, 'tools.exec.timeoutMs', 'expected an integer');
    await rejects({ tools: { webFetch: { maxBytes: -1 } } }, 'tools.webFetch.maxBytes', 'expected an integer');
    await rejects({ tools: { maxIterations: 0 } }, 'tools.maxIterations', 'expected an integer');
    await rejects({ tools: [] }, 'tools', 'expected an object');
  });
});
