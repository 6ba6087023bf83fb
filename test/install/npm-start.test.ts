import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startScriptNodeFlags } from '../../bench/targets.js';
import { hermeticEnv, httpGet, makeTempHome } from '../helpers/spawn-cli.js';

/** The repository root, where package.json and its `start` script live (dist/test/install → ../../..). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

const homes: string[] = [];
after(async () => {
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

/** Resolves once GET /health stops answering (the gateway has let go of the port), bounded. */
async function waitForPortClosed(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await httpGet(`${url}/health`, 500);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('npm start', () => {
  it('stops the gateway when npm gets SIGTERM, as supervisors and docker stop send it', async () => {
    const home = await makeTempHome();
    homes.push(home);
    const env = hermeticEnv(home, { npm_config_update_notifier: 'false', npm_config_loglevel: 'silent' });
    const npm = spawn('npm', ['start', '--', '--port', '0'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    npm.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    // 'exit', not 'close': a gateway left behind would hold the pipes open.
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    let gatewayPid: number | undefined;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
        const check = (): void => {
          const match = /"msg":"gateway listening"[^\n]*"port":(\d+)[^\n]*"pid":(\d+)/.exec(output);
          if (match === null) return;
          gatewayPid = Number(match[2]);
          clearTimeout(timer);
          resolve(Number(match[1]));
        };
        npm.stdout.on('data', check);
        npm.stderr.on('data', check);
        void exited.then(() => reject(new Error(`npm exited before the gateway listened:\n${output}`)));
      });
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await httpGet(`${url}/health`)).status, 200);
      // The gateway runs with the node flags of the start script, the very ones the bench gives it.
      const argv = (await readFile(`/proc/${gatewayPid}/cmdline`, 'utf8')).split('\0');
      const flags = startScriptNodeFlags();
      assert.ok(flags.length > 0, 'the start script gives node its flags');
      assert.deepEqual(argv.slice(1, 1 + flags.length), flags);
      assert.ok(argv.includes('gateway'));

      npm.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS))]);
      assert.notEqual(code, 'timeout', 'npm did not exit after SIGTERM');
      assert.ok(await waitForPortClosed(url, STOP_TIMEOUT_MS), `the gateway still answers on ${url} after npm exited`);
      assert.match(output, /"msg":"shutdown requested"[^\n]*"signal":"SIGTERM"/, 'the gateway itself got the signal and drained');
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      if (gatewayPid !== undefined) killIfRunning(gatewayPid);
      npm.stdout.destroy();
      npm.stderr.destroy();
    }
  });
});

function killIfRunning(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone, as it should be.
  }
}
