/** `pincer status`: ask a running gateway's /ready and print a one-line summary. */

import { request } from 'node:http';
import * as v from 'valibot';
import { describeMissingProviderKey } from '../config/provider-key.js';
import { loadClientConfig } from './client-config.js';
import { httpUrlFor } from '../util/host-format.js';

/** How long to wait for /ready before calling the gateway unresponsive. */
export const STATUS_TIMEOUT_MS = 3_000;
const MAX_BODY_BYTES = 64 * 1024;

const readyBodySchema = v.object({
  ready: v.boolean(),
  failing: v.array(v.string()),
  uptimeMs: v.number(),
});

interface Answer {
  status: number;
  body: string;
}

/** Print `ready: …` and exit 0, or `not ready: …` / `not running: …` and exit 1. */
export async function runStatus(options: Record<string, unknown>): Promise<void> {
  const config = loadClientConfig(options);
  const base = httpUrlFor(config.gateway.host, config.gateway.port);
  let answer: Answer;
  try {
    answer = await getText(`${base}/ready`, STATUS_TIMEOUT_MS);
  } catch (error) {
    process.stdout.write(`not running: ${describeFailure(error, base)}\n`);
    process.exitCode = 1;
    return;
  }

  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    json = undefined;
  }
  const parsed = v.safeParse(readyBodySchema, json);
  if (!parsed.success) {
    process.stdout.write(`unknown: ${base} answered /ready with HTTP ${answer.status} but not a Pincer readiness body\n`);
    process.exitCode = 1;
    return;
  }
  const { ready, failing, uptimeMs } = parsed.output;
  if (ready && answer.status === 200) {
    const missingKey = describeMissingProviderKey(config);
    const warning = missingKey === undefined ? '' : `; warning: ${missingKey}`;
    process.stdout.write(`ready: gateway at ${base} is up ${formatDuration(uptimeMs)}${warning}\n`);
    return;
  }
  const why = failing.length > 0 ? failing.join(', ') : `HTTP ${answer.status}`;
  process.stdout.write(`not ready: gateway at ${base} reports ${why} (up ${formatDuration(uptimeMs)})\n`);
  process.exitCode = 1;
}

function getText(url: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) req.destroy(new Error('response too large'));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

function describeFailure(error: unknown, base: string): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === 'ECONNREFUSED') return `nothing is listening at ${base}`;
  if (code === 'ETIMEDOUT') return `${base} did not answer within ${STATUS_TIMEOUT_MS / 1000} s`;
  const message = error instanceof Error ? error.message : String(error);
  return `cannot reach ${base} (${message})`;
}

function formatDuration(ms: number): string {
  const totalS = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}
