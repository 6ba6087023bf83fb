/**
 * The real `pincer gateway` process for reliability tests: a child on a
 * fixed free loopback port, a given state dir, a config file pointing the
 * provider at the fake model server, and timings of its start-up.
 */

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FileConfig } from '../../src/config/schema.js';
import { ProtocolClient } from '../helpers/protocol-client.js';
import { hermeticEnv, httpGet, spawnCli, type CliProcess } from '../helpers/spawn-cli.js';

/** Poll period of /health and /ready while the child starts, ms. */
const START_POLL_MS = 10;

export interface GatewayChild {
  cli: CliProcess;
  port: number;
  url: string;
  wsUrl: string;
  token: string;
  /** Spawn → first /health answer (the port is bound), ms. */
  listenMs: number;
  /** First /health answer → first /ready 200 (store opened, crashed runs repaired), ms. */
  readyAfterListenMs: number;
}

export interface GatewayChildOptions {
  home: string;
  stateDir: string;
  /** Base URL of the fake model (FakeModelServer.url). */
  modelUrl: string;
  token?: string;
  /** Merged into the config file (gateway limits, agent settings). */
  config?: FileConfig;
  /** Bound of the whole start, ms (default 20000). */
  startTimeoutMs?: number;
  /** Extra environment variables of the gateway process. */
  env?: Record<string, string>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Spawn the gateway and resolve once /ready answers 200. The caller must kill it in an after hook. */
export async function startGatewayChild(options: GatewayChildOptions): Promise<GatewayChild> {
  const token = options.token ?? randomBytes(18).toString('base64url');
  const port = await freePort();
  const configPath = join(options.stateDir, 'reliability-config.json');
  const config: FileConfig = {
    ...options.config,
    provider: { kind: 'openai', baseUrl: options.modelUrl, apiKey: 'test-key', model: 'fake-model', timeoutMs: 30_000, maxRetries: 0 },
  };
  await writeFile(configPath, JSON.stringify(config));
  const spawnedAt = Date.now();
  const cli = spawnCli(
    ['gateway', '--port', String(port), '--token', token, '--state-dir', options.stateDir, '--config', configPath, '--log-level', 'warn'],
    hermeticEnv(options.home, options.env),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = spawnedAt + (options.startTimeoutMs ?? 20_000);
  let listenedAt: number | undefined;
  try {
    while (Date.now() < deadline) {
      if (cli.child.exitCode !== null || cli.child.signalCode !== null) throw new Error(`gateway exited during start-up\n${cli.stderr()}`);
      const ready = await probe(`${url}/ready`);
      if (ready !== undefined) listenedAt ??= Date.now();
      if (ready === 200 && listenedAt !== undefined) {
        const readyAt = Date.now();
        return {
          cli,
          port,
          url,
          wsUrl: `ws://127.0.0.1:${port}`,
          token,
          listenMs: listenedAt - spawnedAt,
          readyAfterListenMs: readyAt - listenedAt,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, START_POLL_MS));
    }
    throw new Error(`gateway not ready within ${options.startTimeoutMs ?? 20_000} ms\n${cli.stderr()}`);
  } catch (error) {
    cli.kill();
    throw error;
  }
}

/** Status of GET url, or undefined when nothing answers. */
async function probe(url: string): Promise<number | undefined> {
  try {
    return (await httpGet(url, 1_000)).status;
  } catch {
    return undefined;
  }
}

/** A chat.history row as the tests read it. */
export interface HistoryRow {
  role: string;
  stopReason?: string;
  errorMessage?: string;
  content: { type: string; text?: string }[];
  __openclaw: { id: string; runId?: string; idempotencyKey?: string };
}

/** A protocol client connected and authenticated to the child. */
export async function connectChild(gateway: GatewayChild, timeoutMs = 10_000): Promise<ProtocolClient> {
  const client = await ProtocolClient.open(gateway.wsUrl);
  const res = await client.connect({ token: gateway.token }, timeoutMs);
  if (!res.ok) {
    client.ws.terminate();
    throw new Error(`connect failed: ${JSON.stringify(res.error)}`);
  }
  return client;
}

/** The whole history of a session (up to 1000 rows), oldest first. */
export async function readHistory(client: ProtocolClient, sessionKey: string, timeoutMs = 10_000): Promise<HistoryRow[]> {
  const res = await client.request('chat.history', { sessionKey, limit: 1000 }, { timeoutMs });
  if (!res.ok) throw new Error(`chat.history ${sessionKey}: ${JSON.stringify(res.error)}`);
  return res.payload.messages as HistoryRow[];
}

/** The text of a history row. */
export function rowText(row: HistoryRow): string {
  return row.content.map((block) => block.text ?? '').join('');
}

/** SIGKILL the child and wait until it is gone. */
export async function killChild(gateway: GatewayChild, timeoutMs = 10_000): Promise<void> {
  gateway.cli.child.kill('SIGKILL');
  const exit = await gateway.cli.waitForExit(timeoutMs);
  if (exit.signal !== 'SIGKILL') throw new Error(`gateway exited with ${exit.code ?? exit.signal} instead of being killed`);
}
