/** The examples under docs/examples/ run as their comments say, against a real gateway. */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';

const run = promisify(execFile);
const ROOT = new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url);
const EXAMPLE = fileURLToPath(new URL('docs/examples/openclaw-node-chat.mjs', ROOT));

describe('docs/examples/openclaw-node-chat.mjs', () => {
  let model: FakeModelServer;
  let gateway: StartedGateway;
  let home: string;

  before(async () => {
    model = await startFakeModelServer({ defaultReply: { text: ['Hello ', 'from ', 'Pincer.'] } });
    gateway = await startGateway({ overrides: { provider: { kind: 'openai', model: 'fake-model', baseUrl: model.url, apiKey: 'sk-fake' } } });
    home = await mkdtemp(join(tmpdir(), 'pincer-example-'));
  });
  after(async () => {
    await gateway?.close();
    await model?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('streams a reply on this Node version with ws as the WebSocket', async () => {
    const { stdout } = await run(process.execPath, [EXAMPLE, 'hi'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, PINCER_URL: gateway.wsUrl, PINCER_TOKEN: gateway.token },
      timeout: 20_000,
    });
    assert.equal(stdout, 'Hello from Pincer.\n');
  });
});
