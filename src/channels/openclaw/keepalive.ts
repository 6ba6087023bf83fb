/**
 * Keepalive (docs/protocol.md §8.5): one interval for the whole channel, running
 * only while there are connections. Each round terminates sockets that did
 * not answer the previous ping, pings the rest, and sends `tick {ts}` to
 * authenticated ones (serialised once per round).
 */

import { eventFramePrefix } from '../../protocol/frames.js';
import { EVENT_TICK } from '../../protocol/method-names.js';
import type { Connection } from './connection.js';

export interface KeepaliveDeps {
  intervalMs: number;
  /** Every open connection, authenticated or not. */
  connections: () => Iterable<Connection>;
  now(): number;
}

export interface Keepalive {
  /** Start or stop the interval to match whether any connection exists. */
  update(connectionCount: number): void;
  /** Run one round now (also what the interval runs). */
  runRound(): void;
  stop(): void;
  /** 1 while the interval is armed. */
  readonly timers: number;
}

export function createKeepalive(deps: KeepaliveDeps): Keepalive {
  let timer: NodeJS.Timeout | undefined;

  function runRound(): void {
    const prefix = eventFramePrefix(EVENT_TICK, JSON.stringify({ ts: deps.now() }));
    const prefixBytes = Buffer.byteLength(prefix, 'utf8');
    for (const conn of deps.connections()) {
      if (conn.state === 'CLOSING') continue;
      if (!conn.alive) {
        // No pong since the last round: the peer is gone or stuck.
        conn.terminate();
        continue;
      }
      conn.alive = false;
      conn.ping();
      if (conn.state === 'AUTHED') conn.sendSequenced(prefix, prefixBytes);
    }
  }

  function stop(): void {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  }

  return {
    update(connectionCount) {
      if (connectionCount > 0 && timer === undefined) {
        timer = setInterval(runRound, deps.intervalMs);
        // The HTTP server keeps the process alive, not the keepalive.
        timer.unref();
      } else if (connectionCount === 0) {
        stop();
      }
    },
    runRound,
    stop,
    get timers() {
      return timer === undefined ? 0 : 1;
    },
  };
}
