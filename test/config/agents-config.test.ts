/**
 * The `agents` section: OpenClaw's agents.list and agents.defaults, resolved
 * into one agent per id with its own workspace and model chain, and every
 * mistake refused at start-up naming the field.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfig } from '../../src/config/load-config.js';

let root: string;
let counter = 0;

const PROVIDER = {
  kind: 'openai',
  model: 'model-a',
  baseUrl: 'http://127.0.0.1:9/v1',
  fallbacks: [{ kind: 'anthropic', model: 'claude-x' }],
  models: [{ kind: 'openai', model: 'model-b', baseUrl: 'http://127.0.0.1:10/v1' }],
};

async function load(config: unknown) {
  const stateDir = join(root, `state-${counter++}`);
  await mkdir(stateDir, { recursive: true });
  await writeFile(join(stateDir, 'config.json'), JSON.stringify(config));
  return { stateDir, config: loadConfig({ env: {}, flags: { stateDir } }) };
}

async function refused(config: unknown, field: string, message: RegExp): Promise<void> {
  await assert.rejects(load(config), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.field, field, error.message);
    assert.match(error.message, message);
    assert.match(error.message, new RegExp(field.replace(/[.[\]]/g, '\\$&')));
    return true;
  });
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pincer-agents-config-'));
});
after(() => rm(root, { recursive: true, force: true }));

describe('agents config', () => {
  it('without agents.list runs main alone in agent.workspaceDir', async () => {
    const { stateDir, config } = await load({});
    assert.deepEqual(config.agents, { defaultId: 'main', list: [{ id: 'main', workspaceDir: join(stateDir, 'workspace') }] });
  });

  it("gives each agent its workspace and model, main first, OpenClaw's string and object model forms", async () => {
    const { stateDir, config } = await load({
      provider: PROVIDER,
      agents: {
        list: [
          { id: 'writer', name: 'Writer', model: 'openai/model-b', identity: { name: 'Quill', avatar: 'Q' } },
          { id: 'main', workspace: '../main-ws' },
          { id: 'solo', model: { primary: 'model-b', fallbacks: [] } },
          { id: 'plain' },
        ],
      },
    });
    assert.deepEqual(config.agents.list, [
      { id: 'main', workspaceDir: join(root, 'main-ws') },
      { id: 'writer', name: 'Writer', workspaceDir: join(stateDir, 'workspace-writer'), model: { primary: 'openai/model-b', fallbacks: [] }, identity: { name: 'Quill', avatar: 'Q' } },
      { id: 'solo', workspaceDir: join(stateDir, 'workspace-solo'), model: { primary: 'model-b', fallbacks: [] } },
      { id: 'plain', workspaceDir: join(stateDir, 'workspace-plain') },
    ]);
    assert.deepEqual(config.provider?.models, [{ kind: 'openai', model: 'model-b', baseUrl: 'http://127.0.0.1:10/v1' }]);
  });

  it('agents.defaults: a workspace parent and a model whose fallbacks a string model keeps', async () => {
    const { config } = await load({
      provider: PROVIDER,
      agents: { defaults: { workspace: '/srv/agents', model: { primary: 'model-a', fallbacks: ['anthropic/claude-x'] } }, list: [{ id: 'ops', model: 'model-b' }] },
    });
    assert.deepEqual(config.agents.list[1], { id: 'ops', workspaceDir: '/srv/agents/ops', model: { primary: 'model-b', fallbacks: ['anthropic/claude-x'] } });
    assert.deepEqual(config.agents.list[0].model, { primary: 'model-a', fallbacks: ['anthropic/claude-x'] });
  });

  it('refuses a repeated id', () => refused({ agents: { list: [{ id: 'a' }, { id: 'a' }] } }, 'agents.list[1].id', /listed twice/));

  it('refuses a bad id', async () => {
    await assert.rejects(load({ agents: { list: [{ id: 'Bad Id' }] } }), /agents\.list\.0\.id.*lowercase/);
  });

  it('refuses an unknown key in an entry', async () => {
    await assert.rejects(load({ agents: { list: [{ id: 'a', colour: 'red' }] } }), /unknown key agents\.list\.0\.colour/);
  });

  it('refuses a model that is not configured', () =>
    refused({ provider: PROVIDER, agents: { list: [{ id: 'a', model: { primary: 'model-a', fallbacks: ['openai/nope'] } }] } }, 'agents.list[0].model', /"openai\/nope" is not a configured model \(configured: openai\/model-a, anthropic\/claude-x, openai\/model-b\)/));

  it('refuses a model when no provider is configured', () => refused({ agents: { list: [{ id: 'a', model: 'openai/x' }] } }, 'agents.list[0].model', /no provider is configured/));

  it('refuses default: true on an agent other than main', () => refused({ agents: { list: [{ id: 'a', default: true }] } }, 'agents.list[0].default', /only "main"/));

  it('refuses two agents sharing a workspace', () =>
    refused({ agents: { list: [{ id: 'a', workspace: '/srv/shared' }, { id: 'b', workspace: '/srv/shared' }] } }, 'agents.list[1].workspace', /is the same directory as agent "a"/));

  it("refuses a workspace inside another agent's", () =>
    refused({ agent: { workspaceDir: '/srv/main' }, agents: { list: [{ id: 'b', workspace: '/srv/main/b' }] } }, 'agents.list[0].workspace', /agent "b"'s workspace \/srv\/main\/b is inside agent "main"'s/));

  it('refuses agents.defaults.workspace that nests the others in main', () =>
    refused({ agent: { workspaceDir: '/srv/all' }, agents: { defaults: { workspace: '/srv/all' }, list: [{ id: 'b' }] } }, 'agents.defaults.workspace', /inside agent "main"'s/));

  it('refuses a workspace in the state directory other than its own workspace-<id>', async () => {
    const stateDir = join(root, `state-${counter}`);
    await refused({ agents: { list: [{ id: 'b', workspace: join(stateDir, 'sessions') }] } }, 'agents.list[0].workspace', /inside the state directory/);
  });

  it("refuses another agent's default folder in the state directory", async () => {
    const stateDir = join(root, `state-${counter}`);
    await refused({ agents: { list: [{ id: 'b', workspace: join(stateDir, 'workspace-c') }] } }, 'agents.list[0].workspace', /only .*workspace-b may be/);
  });
});
