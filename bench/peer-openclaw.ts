/**
 * Start OpenClaw's gateway as a bench target: its own temp home and state
 * dir, token auth on a free loopback port, and the bench's fake model as its
 * only provider (OpenAI-compatible). Everything that would reach the network
 * is off: channels, mDNS, the update check. Ready is its GET /readyz 200
 * (startup sidecars settled, agents admitted), the same moment Pincer's
 * /ready marks.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerInstall } from './peer-install.js';
import { freePort, launchTarget, type RunningTarget } from './targets.js';

/** OpenClaw takes 10–30 s to start on a 2-core machine; allow far more before calling it failed. */
export const OPENCLAW_START_TIMEOUT_MS = 180_000;
/** Its /readyz does real work per call; poll it gently, still fine-grained against a start of many seconds. */
const READY_POLL_MS = 50;
/** The model id under the provider below; the agent's primary model is `bench/fake-model`. */
const MODEL_ID = 'fake-model';

/** OpenClaw's config (openclaw.json) for one bench start. */
export function openclawBenchConfig(dir: string, port: number, token: string, modelUrl: string): Record<string, unknown> {
  return {
    gateway: { mode: 'local', port, bind: 'loopback', auth: { mode: 'token', token } },
    agents: {
      defaults: {
        model: { primary: `bench/${MODEL_ID}` },
        workspace: join(dir, 'workspace'),
        // No recurring heartbeat turn calls the model while the bench measures.
        heartbeat: { every: '0m' },
      },
    },
    models: {
      mode: 'merge',
      providers: {
        bench: {
          baseUrl: modelUrl,
          apiKey: 'bench-key',
          api: 'openai-completions',
          models: [
            {
              id: MODEL_ID,
              name: 'Bench fake model',
              reasoning: false,
              input: ['text'],
              cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
              contextWindow: 128_000,
              maxTokens: 8192,
            },
          ],
        },
      },
    },
    update: { checkOnStart: false },
    discovery: { mdns: { mode: 'off' } },
    // Warnings and worse, as the Pincer target logs; into the temp dir, not the shared /tmp/openclaw.
    logging: { level: 'warn', file: join(dir, 'logs', 'openclaw.log') },
  };
}

/** Spawn OpenClaw's gateway and resolve once GET /readyz answers 200. */
export async function startOpenClaw(install: PeerInstall, modelUrl: string): Promise<RunningTarget> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pincer-bench-openclaw-'));
  const token = randomBytes(24).toString('hex');
  const configPath = join(dir, 'openclaw.json');
  await mkdir(join(dir, 'tmp'));
  await writeFile(configPath, JSON.stringify(openclawBenchConfig(dir, port, token, modelUrl)));
  return launchTarget({
    name: 'openclaw',
    command: install.node,
    args: [install.entry, 'gateway', '--port', String(port)],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      TMPDIR: join(dir, 'tmp'),
      OPENCLAW_STATE_DIR: join(dir, 'state'),
      OPENCLAW_CONFIG_PATH: configPath,
      // OpenClaw's own embedding preset (docs/gateway/embedding.md): no channels, no mDNS, no detached respawn,
      // no login-shell snapshot; and no update or telemetry request.
      OPENCLAW_SKIP_CHANNELS: '1',
      OPENCLAW_DISABLE_BONJOUR: '1',
      OPENCLAW_NO_RESPAWN: '1',
      OPENCLAW_EXEC_SHELL_SNAPSHOT: '0',
      OPENCLAW_NO_AUTO_UPDATE: '1',
    },
    cwd: dir,
    port,
    token,
    readyPath: '/readyz',
    readyPollMs: READY_POLL_MS,
    startTimeoutMs: OPENCLAW_START_TIMEOUT_MS,
    // It runs helper processes (a spawn broker, a SQLite worker): stop them with it.
    processGroup: true,
    afterStop: () => rm(dir, { recursive: true, force: true }),
  });
}
