/**
 * Issue 6, item 5: WebSocket framing conformance on raw sockets, after the
 * Autobahn categories 1-7 and 9 (RFC 6455 §5): masking, RSV bits, reserved
 * opcodes, control frames, UTF-8, close codes, ping/pong, fragmentation and
 * size limits. Each case asserts the exact close code (or the exact reply).
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeServerFrames, parseClosePayload, rawUpgrade, type ServerFrame } from '../helpers/raw-upgrade.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';

/** policy.maxPayload for this suite, bytes: above the 64 KiB pre-auth cap so both limits can be hit apart. */
const MAX_PAYLOAD_BYTES = 128 * 1024;
const PRE_AUTH_MAX_BYTES = 64 * 1024;
const WAIT_MS = 3_000;

const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
const CLOSE = { normal: 1000, protocolError: 1002, unsupported: 1003, invalidData: 1007, tooBig: 1009 } as const;
/** Bytes that are not UTF-8: a UTF-16 surrogate encoded as if it were a code point (Autobahn 6.4). */
const INVALID_UTF8 = Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xed, 0xa0, 0x80, 0x65, 0x64]);

interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** RSV1-3 as a 3-bit number (4 = RSV1). */
  rsv?: number;
  masked?: boolean;
  /** Announce this length instead of the real one (64-bit form). */
  claimedLength?: bigint;
}

/** Encode one client frame exactly as specified, valid or not. */
function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : (spec.payload ?? Buffer.alloc(0));
  const masked = spec.masked ?? true;
  const first = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  const maskBit = masked ? 0x80 : 0;
  let header: Buffer;
  if (spec.claimedLength !== undefined) {
    header = Buffer.alloc(10);
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(spec.claimedLength, 2);
  } else if (payload.length < 126) {
    header = Buffer.from([0, maskBit | payload.length]);
  } else if (payload.length < 65_536) {
    header = Buffer.alloc(4);
    header[1] = maskBit | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  header[0] = first;
  if (!masked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, body]);
}

function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

function request(id: string, method: string, params: unknown): string {
  return JSON.stringify({ type: 'req', id, method, params });
}

describe('WebSocket framing conformance (raw sockets)', () => {
  let gateway: StartedGateway;
  const sockets = new Set<Socket>();

  before(async () => {
    gateway = await startGateway({ overrides: { gateway: { maxPayloadBytes: MAX_PAYLOAD_BYTES } } });
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await gateway.close();
  });

  async function open(): Promise<Socket> {
    const upgrade = await rawUpgrade(gateway.port);
    assert.equal(upgrade.status, 101);
    const socket = upgrade.socket!;
    sockets.add(socket);
    readerOf(socket);
    if (upgrade.head !== undefined && upgrade.head.length > 0) socket.unshift(upgrade.head);
    return socket;
  }

  function connectParams(clientId = 'framing-test'): Record<string, unknown> {
    return {
      minProtocol: 3,
      maxProtocol: 4,
      client: { id: clientId, version: '0.0.0', platform: 'linux', mode: 'test' },
      role: 'operator',
      scopes: ['operator.admin'],
      auth: { token: gateway.token },
    };
  }

  /** A socket past `connect` (hello-ok read), so the post-auth limits apply. */
  async function openAuthed(): Promise<Socket> {
    const socket = await open();
    socket.write(frame({ opcode: OP.text, payload: request('c1', 'connect', connectParams()) }));
    const frames = await readUntil(socket, (f) => f.opcode === OP.text && JSON.parse(f.payload.toString()).type === 'res');
    const res = JSON.parse(frames.at(-1)!.payload.toString());
    assert.equal(res.ok, true, `connect failed: ${JSON.stringify(res.error)}`);
    return socket;
  }

  /** Send bytes and return the close code the server answers with (1005 for an empty close payload). */
  async function closeCodeFor(socket: Socket, ...frames: Buffer[]): Promise<number> {
    for (const bytes of frames) socket.write(bytes);
    const received = await readUntil(socket, (f) => f.opcode === OP.close);
    const close = received.find((f) => f.opcode === OP.close);
    assert.ok(close, `no close frame; got opcodes ${received.map((f) => f.opcode).join(',')}`);
    socket.destroy();
    return parseClosePayload(close.payload).code;
  }

  describe('masking and reserved bits (Autobahn 1-3)', () => {
    it('closes 1002 on an unmasked client frame', async () => {
      assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.text, payload: '{}', masked: false })), CLOSE.protocolError);
    });
    for (const rsv of [4, 2, 1, 7]) {
      it(`closes 1002 on RSV bits ${rsv.toString(2).padStart(3, '0')} without an extension`, async () => {
        assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.text, payload: 'x', rsv })), CLOSE.protocolError);
      });
    }
  });

  describe('reserved opcodes (Autobahn 4)', () => {
    for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
      it(`closes 1002 on opcode 0x${opcode.toString(16)}`, async () => {
        assert.equal(await closeCodeFor(await open(), frame({ opcode, payload: 'x' })), CLOSE.protocolError);
      });
    }
  });

  describe('control frames and fragmentation (Autobahn 2, 5)', () => {
    it('closes 1002 on a ping with a 126-byte payload', async () => {
      assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.ping, payload: Buffer.alloc(126, 0x61) })), CLOSE.protocolError);
    });
    it('closes 1002 on a fragmented ping', async () => {
      assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.ping, payload: 'a', fin: false })), CLOSE.protocolError);
    });
    it('closes 1002 on a fragmented close', async () => {
      assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.close, payload: closePayload(1000), fin: false })), CLOSE.protocolError);
    });
    it('closes 1002 on a continuation frame with nothing to continue', async () => {
      assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.continuation, payload: 'x' })), CLOSE.protocolError);
    });
    it('closes 1002 on a new text frame inside a fragmented message', async () => {
      const socket = await open();
      const code = await closeCodeFor(socket, frame({ opcode: OP.text, payload: '{"a":', fin: false }), frame({ opcode: OP.text, payload: '1}' }));
      assert.equal(code, CLOSE.protocolError);
    });
    it('reassembles a fragmented request split inside a UTF-8 character, answering a ping in between', async () => {
      const socket = await open();
      const bytes = Buffer.from(request('frag-1', 'connect', connectParams('fragmenté')), 'utf8');
      const split = bytes.indexOf(Buffer.from('é')) + 1; // between the two bytes of "é"
      socket.write(frame({ opcode: OP.text, payload: bytes.subarray(0, split), fin: false }));
      socket.write(frame({ opcode: OP.ping, payload: 'mid' }));
      socket.write(frame({ opcode: OP.continuation, payload: bytes.subarray(split, split + 10), fin: false }));
      socket.write(frame({ opcode: OP.continuation, payload: bytes.subarray(split + 10) }));
      const frames = await readUntil(socket, (f) => f.opcode === OP.text && f.payload.includes('"res"'));
      const pong = frames.find((f) => f.opcode === OP.pong);
      assert.equal(pong?.payload.toString(), 'mid');
      const res = JSON.parse(frames.at(-1)!.payload.toString());
      assert.equal(res.id, 'frag-1');
      assert.equal(res.ok, true);
      socket.destroy();
    });
  });

  describe('ping and pong (Autobahn 2)', () => {
    for (const [label, payload] of [
      ['an empty ping', Buffer.alloc(0)],
      ['a text ping', Buffer.from('Hello, world!')],
      ['a 125-byte binary ping', randomBytes(125)],
    ] as const) {
      it(`echoes ${label} in a pong`, async () => {
        const socket = await open();
        socket.write(frame({ opcode: OP.ping, payload }));
        const frames = await readUntil(socket, (f) => f.opcode === OP.pong);
        assert.deepEqual(frames.find((f) => f.opcode === OP.pong)?.payload, payload);
        socket.destroy();
      });
    }
    it('ignores an unsolicited pong and keeps the socket', async () => {
      const socket = await openAuthed();
      socket.write(frame({ opcode: OP.pong, payload: 'unasked' }));
      socket.write(frame({ opcode: OP.text, payload: request('after-pong', 'health', {}) }));
      const frames = await readUntil(socket, (f) => f.opcode === OP.text && f.payload.includes('"after-pong"'));
      assert.equal(frames.some((f) => f.opcode === OP.close), false);
      socket.destroy();
    });
  });

  describe('UTF-8 (Autobahn 6)', () => {
    it('closes 1007 on invalid UTF-8 in a whole text frame', async () => {
      assert.equal(await closeCodeFor(await openAuthed(), frame({ opcode: OP.text, payload: INVALID_UTF8 })), CLOSE.invalidData);
    });
    it('closes 1007 on invalid UTF-8 spread over fragments', async () => {
      const socket = await openAuthed();
      const code = await closeCodeFor(
        socket,
        frame({ opcode: OP.text, payload: INVALID_UTF8.subarray(0, 6), fin: false }),
        frame({ opcode: OP.continuation, payload: INVALID_UTF8.subarray(6) }),
      );
      assert.equal(code, CLOSE.invalidData);
    });
    it('closes 1007 on a close reason that is not UTF-8', async () => {
      assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.close, payload: closePayload(1000, INVALID_UTF8) })), CLOSE.invalidData);
    });
  });

  describe('close handshake (Autobahn 7)', () => {
    for (const code of [1000, 1001, 3000, 4999]) {
      it(`echoes a close with the valid code ${code}`, async () => {
        assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.close, payload: closePayload(code, 'bye') })), code);
      });
    }
    it('answers an empty close with an empty close', async () => {
      assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.close })), 1005);
    });
    it('closes 1002 on a close payload of one byte', async () => {
      assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.close, payload: Buffer.from([0x03]) })), CLOSE.protocolError);
    });
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65_535]) {
      it(`closes 1002 on the invalid close code ${code}`, async () => {
        assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.close, payload: closePayload(code) })), CLOSE.protocolError);
      });
    }
  });

  describe('data types and sizes (Autobahn 9, protocol.md §1 and §8)', () => {
    it('closes 1003 on a binary frame before connect', async () => {
      assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.binary, payload: '{}' })), CLOSE.unsupported);
    });
    it('closes 1003 on a binary frame after connect', async () => {
      assert.equal(await closeCodeFor(await openAuthed(), frame({ opcode: OP.binary, payload: '{}' })), CLOSE.unsupported);
    });
    it('closes 1009 on a frame over the 64 KiB pre-auth cap', async () => {
      const code = await closeCodeFor(await open(), frame({ opcode: OP.text, payload: Buffer.alloc(PRE_AUTH_MAX_BYTES + 1024, 0x20) }));
      assert.equal(code, CLOSE.tooBig);
    });
    it('closes 1009 on a frame over policy.maxPayload after connect', async () => {
      const code = await closeCodeFor(await openAuthed(), frame({ opcode: OP.text, payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20) }));
      assert.equal(code, CLOSE.tooBig);
    });
    it('closes 1009 on a fragmented message whose fragments add up past policy.maxPayload', async () => {
      const piece = Buffer.alloc(MAX_PAYLOAD_BYTES / 4, 0x20);
      const socket = await openAuthed();
      const fragments = [frame({ opcode: OP.text, payload: piece, fin: false })];
      for (let i = 0; i < 4; i++) fragments.push(frame({ opcode: OP.continuation, payload: piece, fin: false }));
      assert.equal(await closeCodeFor(socket, ...fragments), CLOSE.tooBig);
    });
    it('closes 1009 on a 64-bit length above 2^53 without waiting for the bytes', async () => {
      assert.equal(await closeCodeFor(await open(), frame({ opcode: OP.text, claimedLength: 1n << 62n })), CLOSE.tooBig);
    });
    it('accepts a text message of exactly policy.maxPayload bytes after connect', async () => {
      const socket = await openAuthed();
      const prefix = '{"type":"req","id":"big","method":"health","params":{"pad":"';
      const suffix = '"}}';
      const text = prefix + 'x'.repeat(MAX_PAYLOAD_BYTES - prefix.length - suffix.length) + suffix;
      socket.write(frame({ opcode: OP.text, payload: text }));
      const frames = await readUntil(socket, (f) => f.opcode === OP.text && f.payload.includes('"big"'));
      const res = JSON.parse(frames.at(-1)!.payload.toString());
      assert.equal(res.ok, true);
      socket.destroy();
    });
  });

  it('leaves no connection behind after every hostile socket', async () => {
    for (const socket of sockets) socket.destroy();
    const deadline = Date.now() + WAIT_MS;
    while (gateway.pincer.channelStats()!.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const stats = gateway.pincer.channelStats()!;
    assert.equal(stats.connections, 0);
    assert.equal(stats.pending, 0);
    assert.equal(stats.sendErrors, 0);
  });
});

/** Server frames of each raw socket, decoded from one growing buffer so no partial frame is lost between reads. */
const readers = new WeakMap<Socket, { buffer: Buffer; frames: ServerFrame[]; closed: boolean; wake: () => void }>();

function readerOf(socket: Socket): { buffer: Buffer; frames: ServerFrame[]; closed: boolean; wake: () => void } {
  let reader = readers.get(socket);
  if (reader !== undefined) return reader;
  const created = { buffer: Buffer.alloc(0), frames: [] as ServerFrame[], closed: false, wake: () => undefined };
  socket.on('data', (chunk: Buffer) => {
    const decoded = decodeServerFrames(Buffer.concat([created.buffer, chunk]));
    created.buffer = Buffer.from(decoded.rest);
    created.frames.push(...decoded.frames);
    created.wake();
  });
  socket.on('close', () => {
    created.closed = true;
    created.wake();
  });
  readers.set(socket, created);
  reader = created;
  return reader;
}

/** Frames until one matches `done` (included), a close frame arrives, the socket closes, or WAIT_MS passes. */
async function readUntil(socket: Socket, done: (frame: ServerFrame) => boolean): Promise<ServerFrame[]> {
  const reader = readerOf(socket);
  const deadline = Date.now() + WAIT_MS;
  const finished = (): boolean => reader.closed || reader.frames.some((f) => done(f) || f.opcode === OP.close);
  while (!finished() && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, deadline - Date.now());
      reader.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  return reader.frames.splice(0);
}
