/**
 * Hand-made WebSocket upgrades for hostile-peer tests: arbitrary Origin and
 * Host headers, the raw bytes after the 101, and minimal frame encoding.
 */

import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

export interface RawUpgradeResult {
  status: number;
  /** Present for a 101. */
  socket?: Socket;
  /** Bytes that arrived in the same read as the 101 headers. */
  head?: Buffer;
  /** Epoch ms when the 101 (or refusal) was read. */
  at: number;
}

/**
 * Send an upgrade request with these headers; resolves with the status (and
 * the socket on 101). `localAddress` (e.g. 127.0.0.2) plays another client IP.
 */
export function rawUpgrade(
  port: number,
  headers: Record<string, string> = {},
  timeoutMs = 3000,
  localAddress?: string,
): Promise<RawUpgradeResult> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      ...(localAddress === undefined ? {} : { localAddress }),
      path: '/',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Version': '13',
        ...headers,
      },
      timeout: timeoutMs,
    });
    req.on('upgrade', (res, socket, head) => resolve({ status: res.statusCode ?? 0, socket, head, at: Date.now() }));
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, at: Date.now() });
    });
    req.on('timeout', () => req.destroy(new Error('upgrade timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** A masked client frame (opcode 0x1 text, 0x2 binary). */
export function encodeClientFrame(payload: Buffer, opcode = 0x1): Buffer {
  const mask = randomBytes(4);
  let header: Buffer;
  if (payload.length < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
  } else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** Decode unmasked server frames from a buffer; returns whole frames and the leftover bytes. */
export function decodeServerFrames(data: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let offset = 0;
  while (data.length - offset >= 2) {
    const opcode = data[offset]! & 0x0f;
    let length = data[offset + 1]! & 0x7f;
    let headerLength = 2;
    if (length === 126) {
      if (data.length - offset < 4) break;
      length = data.readUInt16BE(offset + 2);
      headerLength = 4;
    } else if (length === 127) {
      if (data.length - offset < 10) break;
      length = Number(data.readBigUInt64BE(offset + 2));
      headerLength = 10;
    }
    if (data.length - offset < headerLength + length) break;
    frames.push({ opcode, payload: data.subarray(offset + headerLength, offset + headerLength + length) });
    offset += headerLength + length;
  }
  return { frames, rest: data.subarray(offset) };
}

/** Collect server frames from a raw socket until `count` arrived, a close frame came, or the timeout passed. */
export function readServerFrames(socket: Socket, count: number, timeoutMs = 3000, initial = Buffer.alloc(0)): Promise<ServerFrame[]> {
  return new Promise((resolve) => {
    let buffer: Buffer = initial;
    const out: ServerFrame[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', finish);
      resolve(out);
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const decoded = decodeServerFrames(buffer);
      out.push(...decoded.frames);
      buffer = decoded.rest;
      if (out.length >= count || out.some((frame) => frame.opcode === 0x8)) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', onData);
    socket.on('close', finish);
    if (initial.length > 0) onData(Buffer.alloc(0));
  });
}

/** Close code and reason of a close frame payload. */
export function parseClosePayload(payload: Buffer): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: '' };
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}
