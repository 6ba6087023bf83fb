/**
 * A scripted OpenClaw peer for page tests that need exact frames (odd history
 * content, events for other sessions, dropped sockets, refused connects): an
 * HTTP server that serves the built page through createWebHandler and answers
 * WebSocket requests from a table the test fills in.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as v from 'valibot';
import { WebSocketServer, type WebSocket } from 'ws';
import { createWebHandler } from '../../src/channels/web/serve-web.js';

/** Matches the gateway's pause before the challenge (protocol.md Appendix A.1). */
const CHALLENGE_DELAY_MS = 20;

const RequestFrameSchema = v.object({
  type: v.literal('req'),
  id: v.string(),
  method: v.string(),
  params: v.optional(v.record(v.string(), v.unknown())),
});
const ConnectAuthSchema = v.object({ auth: v.object({ token: v.string() }) });

export interface RecordedRequest {
  method: string;
  params: Record<string, unknown>;
}

/** Answer for one method: a payload, or `{ error }` to fail it; `closeWith` then closes the socket. */
export type ScriptedAnswer = { payload: unknown } | { error: Record<string, unknown>; closeWith?: number };

export type ScriptedHandler = (params: Record<string, unknown>, socket: WebSocket) => ScriptedAnswer;

export interface ScriptedGateway {
  url: string;
  token: string;
  requests: RecordedRequest[];
  /** Method handlers; `connect` has a default that checks `token`. */
  handlers: Map<string, ScriptedHandler>;
  /** Send an event to every authenticated socket. */
  broadcast(event: string, payload: unknown): void;
  /** Drop every socket without a close frame, as a lost network does. */
  dropAll(): void;
  close(): Promise<void>;
}

/** Start the page server with a scripted WebSocket peer on 127.0.0.1. */
export async function startScriptedGateway(assetsDir: string, token: string): Promise<ScriptedGateway> {
  const handler = createWebHandler({ assetsDir });
  const server = http.createServer((req, res) => {
    if (handler(req, res)) return;
    res.writeHead(404);
    res.end();
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws)));
  const authed = new Set<WebSocket>();
  const seqs = new Map<WebSocket, number>();
  const requests: RecordedRequest[] = [];
  const handlers = new Map<string, ScriptedHandler>();
  handlers.set('connect', (params) => {
    const auth = v.safeParse(ConnectAuthSchema, params);
    if (auth.success && auth.output.auth.token === token) return { payload: { type: 'hello-ok', protocol: 3, policy: { tickIntervalMs: 30_000 } } };
    return {
      error: {
        code: 'INVALID_REQUEST',
        message: 'unauthorized: gateway token mismatch (use this gateway\'s auth.token, or the token `pincer token` prints)',
        details: { code: 'AUTH_TOKEN_MISMATCH' },
      },
      closeWith: 1008,
    };
  });

  function send(ws: WebSocket, frame: Record<string, unknown>): void {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify(frame));
  }

  function onConnection(ws: WebSocket): void {
    setTimeout(() => send(ws, { type: 'event', event: 'connect.challenge', payload: { nonce: 'n', ts: Date.now() } }), CHALLENGE_DELAY_MS);
    ws.on('message', (data) => {
      const parsed = v.safeParse(RequestFrameSchema, JSON.parse(String(data)));
      if (!parsed.success) {
        ws.close(1008, 'invalid frame');
        return;
      }
      const frame = parsed.output;
      const params = frame.params ?? {};
      requests.push({ method: frame.method, params });
      const answer = handlers.get(frame.method)?.(params, ws) ?? {
        error: { code: 'INVALID_REQUEST', message: `unknown method: ${frame.method}` },
      };
      if ('payload' in answer) {
        send(ws, { type: 'res', id: frame.id, ok: true, payload: answer.payload });
        if (frame.method === 'connect') {
          authed.add(ws);
          seqs.set(ws, 0);
        }
        return;
      }
      send(ws, { type: 'res', id: frame.id, ok: false, error: answer.error });
      if (answer.closeWith !== undefined) ws.close(answer.closeWith, String(answer.error['message'] ?? '').slice(0, 120));
    });
    ws.on('close', () => authed.delete(ws));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    token,
    requests,
    handlers,
    broadcast(event, payload) {
      for (const ws of authed) {
        const seq = (seqs.get(ws) ?? 0) + 1;
        seqs.set(ws, seq);
        send(ws, { type: 'event', event, payload, seq });
      }
    },
    dropAll() {
      for (const ws of wss.clients) ws.terminate();
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
