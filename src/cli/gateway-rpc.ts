/**
 * One request to a running gateway over its own protocol, as the OpenClaw
 * CLI does it: open the WebSocket, answer connect.challenge with `connect`
 * (the configured secret, else the generated token file), send the request,
 * return the payload, close. Every step is bounded by one timeout.
 */

import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { PincerConfig } from '../config/schema.js';
import { tokenFilePath } from '../config/token-file.js';
import { httpUrlFor } from '../util/host-format.js';
import { readPackageVersion } from '../util/package-info.js';

/** Whole-call budget: connect, handshake and the answer, ms. */
export const RPC_TIMEOUT_MS = 10_000;

/** A refusal by the gateway (`res.ok === false`), with its wire code. */
export class GatewayRpcError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'GatewayRpcError';
    this.code = code;
  }
}

/** Call `method` on the gateway `config` points at; resolves with the payload. */
export async function callGateway(config: PincerConfig, method: string, params: unknown, timeoutMs = RPC_TIMEOUT_MS): Promise<unknown> {
  const url = httpUrlFor(config.gateway.host, config.gateway.port).replace(/^http/, 'ws');
  const auth = readSecret(config);
  const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
  const frames: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data) => {
    try {
      frames.push(JSON.parse(String(data)) as Record<string, unknown>);
    } catch {
      return;
    }
    wake?.();
  });
  const deadline = Date.now() + timeoutMs;
  const closed = new Promise<Error>((resolve) => {
    ws.once('error', (error: NodeJS.ErrnoException) =>
      resolve(new Error(error.code === 'ECONNREFUSED' ? `no gateway is listening at ${url}` : `cannot reach the gateway at ${url}: ${error.message}`)),
    );
    ws.once('close', (code, reason) => resolve(new Error(`the gateway closed the connection (${code}${reason.length > 0 ? ` ${String(reason)}` : ''})`)));
  });
  const next = async (test: (frame: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const found = frames.find(test);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the gateway at ${url} did not answer ${what} within ${timeoutMs / 1000} s`);
      let timer: NodeJS.Timeout | undefined;
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, left);
      });
      const error = await Promise.race([woken.then(() => undefined), closed]);
      clearTimeout(timer);
      if (error !== undefined && frames.find(test) === undefined) throw error;
    }
  };
  try {
    await next((frame) => frame.type === 'event' && frame.event === 'connect.challenge', 'the handshake');
    const connectId = randomUUID();
    ws.send(
      JSON.stringify({
        type: 'req',
        id: connectId,
        method: 'connect',
        params: {
          minProtocol: 3,
          maxProtocol: 4,
          client: { id: 'cli', version: readPackageVersion(), platform: process.platform, mode: 'cli' },
          role: 'operator',
          scopes: ['operator.admin'],
          caps: [],
          auth,
        },
      }),
    );
    answerOf(await next((frame) => frame.type === 'res' && frame.id === connectId, 'connect'));
    const id = randomUUID();
    ws.send(JSON.stringify({ type: 'req', id, method, params }));
    return answerOf(await next((frame) => frame.type === 'res' && frame.id === id, method));
  } finally {
    ws.removeAllListeners('message');
    ws.on('error', () => undefined);
    ws.terminate();
  }
}

function answerOf(frame: Record<string, unknown>): unknown {
  if (frame.ok === true) return frame.payload;
  const error = (frame.error ?? {}) as { code?: unknown; message?: unknown };
  throw new GatewayRpcError(String(error.code ?? 'UNAVAILABLE'), String(error.message ?? 'request failed'));
}

function readSecret(config: PincerConfig): { token?: string; password?: string } {
  if (config.auth.token !== undefined) return { token: config.auth.token };
  if (config.auth.password !== undefined) return { password: config.auth.password };
  const path = tokenFilePath(config.stateDir);
  try {
    return { token: readFileSync(path, 'utf8').trim() };
  } catch {
    throw new Error(`no secret to connect with: set PINCER_TOKEN or auth.token, or start the gateway once so it writes ${path}`);
  }
}
