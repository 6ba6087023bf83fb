/**
 * V8's heap sizing, set for a gateway rather than for a batch job. V8's
 * defaults trade memory for throughput: the young generation doubles on
 * every busy stretch up to 16 MiB per semi-space (32 MiB resident that a
 * server then keeps), and after each full collection the old generation may
 * grow to up to four times what survived before the next one. A gateway's
 * garbage is small and short-lived (frames, events, one reply at a time), so
 * here the young generation stays at its initial size and the old generation
 * grows by half of what is live. Measured with `npm run bench`: RSS after
 * 1,000 chat turns, per idle connection and for a 10 MB reply all drop by a
 * quarter or more, while the handshake and fan-out figures stay within
 * their budgets and round trips keep their pace.
 *
 * Both flags are read by V8 as it collects, so they apply when set at run
 * time; the process's owner (`pincer gateway`) sets them before it starts.
 */

import { setFlagsFromString } from 'node:v8';

/** Each collection may grow the young generation by this factor; 1 keeps it at its initial size. */
const SEMI_SPACE_GROWTH_FACTOR = 1;
/** After a full collection, the old generation may grow by this share of what survived, %. */
const OLD_SPACE_GROWTH_PERCENT = 50;

export function applyGatewayHeapPolicy(): void {
  setFlagsFromString(`--semi-space-growth-factor=${SEMI_SPACE_GROWTH_FACTOR}`);
  setFlagsFromString(`--heap-growing-percent=${OLD_SPACE_GROWTH_PERCENT}`);
}
