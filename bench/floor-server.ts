/**
 * The benchmark floor: a bare Node http + `ws` server that does what a
 * client sees of Pincer's hot path with no logic behind it. GET /ready
 * answers 200; a socket gets connect.challenge, `connect` with the right
 * token gets hello-ok, any other request is echoed back as `ok:true`, and
 * `bench.fanout` broadcasts events to every authenticated socket. Pincer's
 * figures are reported as ratios to this server, measured in the same run.
 *
 * Run as a process: PINCER_PORT=<port> PINCER_TOKEN=<token> node floor-server.js
 */

import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';

/** Same delay as Pincer's connect.challenge (protocol.md Appendix A.1), ms. */
const CHALLENGE_DELAY_MS = 25;
/** Same per-frame cap as Pincer's default policy.maxPayload, bytes. */
const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

interface FloorSocket {
  ws: WebSocket;
  authed: boolean;
  seq: number;
  challengeTimer: NodeJS.Timeout | undefined;
}

/** Start the floor on 127.0.0.1:`port`; resolves once listening. */
export async function startFloorServer(port: number, token: string): Promise<Server> {
  const sockets = new Set<FloorSocket>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_PAYLOAD_BYTES, clientTracking: false });
  const server = createServer((req, res) => {
    const ready = req.url === '/ready' || req.url === '/health';
    res.writeHead(ready ? 200 : 404, { 'content-type': 'application/json' });
    res.end(ready ? '{"ready":true}' : '{"error":"not found"}');
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    wss.handleUpgrade(req, socket, head, (ws) => {
      const entry: FloorSocket = { ws, authed: false, seq: 0, challengeTimer: undefined };
      sockets.add(entry);
      entry.challengeTimer = setTimeout(() => sendChallenge(entry), CHALLENGE_DELAY_MS);
      ws.on('message', (data) => onMessage(entry, String(data)));
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        clearTimeout(entry.challengeTimer);
        sockets.delete(entry);
      });
    });
  });

  function sendChallenge(entry: FloorSocket): void {
    if (entry.challengeTimer === undefined) return;
    clearTimeout(entry.challengeTimer);
    entry.challengeTimer = undefined;
    const payload = JSON.stringify({ nonce: randomUUID(), ts: Date.now(), capabilities: [] });
    entry.ws.send(`{"type":"event","event":"connect.challenge","payload":${payload}}`);
  }

  function onMessage(entry: FloorSocket, text: string): void {
    let frame: { id?: unknown; method?: unknown; params?: { auth?: { token?: unknown }; count?: unknown; payloadBytes?: unknown } };
    try {
      frame = JSON.parse(text);
    } catch {
      entry.ws.close(1008, 'invalid frame');
      return;
    }
    const id = JSON.stringify(String(frame.id));
    if (!entry.authed) {
      sendChallenge(entry);
      if (frame.method !== 'connect' || frame.params?.auth?.token !== token) {
        entry.ws.send(`{"type":"res","id":${id},"ok":false,"error":{"code":"INVALID_REQUEST","message":"unauthorized"}}`);
        entry.ws.close(1008, 'unauthorized');
        return;
      }
      entry.authed = true;
      const hello = JSON.stringify({ type: 'hello-ok', protocol: 4, server: { version: 'floor', connId: randomUUID() }, policy: { maxPayload: MAX_PAYLOAD_BYTES } });
      entry.ws.send(`{"type":"res","id":${id},"ok":true,"payload":${hello}}`);
      return;
    }
    if (frame.method === 'bench.fanout') {
      const count = Number(frame.params?.count ?? 0);
      const payloadBytes = Number(frame.params?.payloadBytes ?? 0);
      entry.ws.send(`{"type":"res","id":${id},"ok":true,"payload":{"count":${count}}}`);
      broadcast(count, payloadBytes);
      return;
    }
    entry.ws.send(`{"type":"res","id":${id},"ok":true,"payload":{}}`);
  }

  /** One event per macrotask, as events arrive from I/O; the last one carries the final marker. */
  function broadcast(count: number, payloadBytes: number): void {
    let sent = 0;
    const pad = 'x'.repeat(Math.max(0, payloadBytes - 80));
    const next = (): void => {
      sent++;
      const state = sent === count ? 'final' : 'delta';
      // Serialised once per event; each socket only splices in its own seq.
      const prefix = `{"type":"event","event":"chat","payload":${JSON.stringify({ state, n: sent, pad })},"seq":`;
      for (const entry of sockets) {
        if (!entry.authed) continue;
        entry.seq++;
        entry.ws.send(`${prefix}${entry.seq}}`);
      }
      if (sent < count) setImmediate(next);
    };
    if (count > 0) setImmediate(next);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PINCER_PORT ?? 0);
  const token = process.env.PINCER_TOKEN ?? '';
  if (token === '') {
    process.stderr.write('floor-server: PINCER_TOKEN is required\n');
    process.exit(64);
  }
  await startFloorServer(port, token);
}
