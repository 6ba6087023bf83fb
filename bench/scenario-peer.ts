/**
 * Pincer against a peer gateway in the same run (issue 22 item 6): both are
 * started the same number of times, one at a time and in alternating order,
 * on the same fake model. Per start: spawn → ready, then RSS a few seconds
 * after ready; on the last start, chat turns one after another over a few
 * sessions, timing chat.send → first `chat` delta, and RSS right after the
 * turns and again once the gateway has been quiet for a while.
 * RSS counts the gateway and every process it started (OpenClaw runs
 * helpers). Ratios are Pincer ÷ peer: below 1, Pincer is faster or smaller.
 */

import { BenchClient } from './bench-client.js';
import type { BenchCounts } from './bench-config.js';
import { MIB, type BenchContext } from './context.js';
import type { Figure } from './figures.js';
import { summarise } from './stats.js';
import { timedTurn } from './timed-turn.js';
import { readTreeRssBytes, type RunningTarget } from './targets.js';

/** Turns not timed: the first calls load the provider code and warm the session store. */
export const PEER_WARM_UP_TURNS = 3;
/** Sessions the turns go round. */
const PEER_SESSIONS = 10;
/** Bound of one turn, ms (OpenClaw's first turn takes seconds). */
const TURN_TIMEOUT_MS = 120_000;

/** What one gateway gave in the comparison. */
export interface PeerSamples {
  readyMs: number[];
  /** RSS of the process tree `idleAfterMs` after ready, MiB, one per start. */
  idleRssMib: number[];
  /** Same, of the gateway process alone. */
  idleMainRssMib: number[];
  /** RSS of the process tree after the turns, MiB. */
  afterTurnsRssMib: number;
  afterTurnsMainRssMib: number;
  /** Same, `quietAfterMs` after the last turn. */
  quietRssMib: number;
  quietMainRssMib: number;
  /** chat.send → first delta of each timed turn, ms. */
  sendToFirstDeltaMs: number[];
  /** The model's first content chunk → the client's first delta, ms. */
  addedMs: number[];
  turns: number;
}

export interface PeerSubject {
  /** Shown in labels and the report's column, e.g. "OpenClaw 2026.9.6". */
  label: string;
  start(): Promise<RunningTarget>;
}

type ChunkListener = BenchContext['setChunkListener'];

/** Run the comparison; returns the figures, Pincer's value against the peer's. */
export async function measurePeer(
  counts: BenchCounts,
  pincer: PeerSubject,
  peer: PeerSubject,
  setChunkListener: ChunkListener,
  log: (message: string) => void,
): Promise<Figure[]> {
  const subjects = [pincer, peer];
  const samples = new Map(subjects.map((subject) => [subject, emptySamples()]));
  for (let run = 0; run < counts.peerRuns; run++) {
    // Alternate the order so drift on a shared machine hits both alike.
    const order = run % 2 === 0 ? subjects : [...subjects].reverse();
    for (const subject of order) {
      const into = samples.get(subject) as PeerSamples;
      const target = await subject.start();
      try {
        into.readyMs.push(target.readyMs);
        const idleAt = target.spawnedAt + target.readyMs + counts.idleAfterMs;
        await new Promise((done) => setTimeout(done, Math.max(0, idleAt - performance.now())));
        into.idleRssMib.push((await readTreeRssBytes(target.pid)) / MIB);
        into.idleMainRssMib.push((await target.rssBytes()) / MIB);
        log(`peer: ${subject.label} ready ${target.readyMs.toFixed(0)} ms, idle ${into.idleRssMib.at(-1)?.toFixed(1)} MiB`);
        if (run === counts.peerRuns - 1) {
          await runTurns(target, counts.peerTurns, into, setChunkListener);
          into.afterTurnsRssMib = (await readTreeRssBytes(target.pid)) / MIB;
          into.afterTurnsMainRssMib = (await target.rssBytes()) / MIB;
          await new Promise((done) => setTimeout(done, counts.quietAfterMs));
          into.quietRssMib = (await readTreeRssBytes(target.pid)) / MIB;
          into.quietMainRssMib = (await target.rssBytes()) / MIB;
          log(`peer: ${subject.label} after ${into.turns} turns ${into.afterTurnsRssMib.toFixed(1)} MiB, once quiet ${into.quietRssMib.toFixed(1)} MiB`);
        }
      } finally {
        await target.stop();
      }
    }
  }
  return peerFigures(peer.label, samples.get(pincer) as PeerSamples, samples.get(peer) as PeerSamples, counts);
}

/** The comparison's figures from both sides' samples (Pincer as the value, the peer in the floor's place). */
export function peerFigures(peerLabel: string, pincer: PeerSamples, peer: PeerSamples, counts: BenchCounts): Figure[] {
  const compare = (id: string, label: string, unit: Figure['unit'], pick: (samples: PeerSamples) => number[], note?: string): Figure => ({
    id,
    label,
    unit,
    statistic: 'median',
    pincer: summarise(pick(pincer)),
    floor: summarise(pick(peer)),
    against: peerLabel,
    ...(note === undefined ? {} : { note }),
  });
  const processAlone = (pick: (samples: PeerSamples) => number): string =>
    `the gateway process alone: Pincer ${pick(pincer).toFixed(1)} MiB, ${peerLabel} ${pick(peer).toFixed(1)} MiB`;
  return [
    compare('peer_ready_ms', 'spawn → ready (/ready, OpenClaw /readyz)', 'ms', (samples) => samples.readyMs),
    compare(
      'peer_idle_rss_mib',
      `idle RSS ${counts.idleAfterMs / 1000} s after ready`,
      'MiB',
      (samples) => samples.idleRssMib,
      processAlone((samples) => summarise(samples.idleMainRssMib).median),
    ),
    compare(
      'peer_rss_after_turns_mib',
      `RSS after ${pincer.turns} chat turns (${PEER_SESSIONS} sessions, one at a time)`,
      'MiB',
      (samples) => [samples.afterTurnsRssMib],
      processAlone((samples) => samples.afterTurnsMainRssMib),
    ),
    compare(
      'peer_rss_quiet_after_turns_mib',
      `RSS ${counts.quietAfterMs / 1000} s after the last of those turns`,
      'MiB',
      (samples) => [samples.quietRssMib],
      processAlone((samples) => samples.quietMainRssMib),
    ),
    compare(
      'peer_send_to_first_delta_ms',
      'chat.send → first delta (zero-delay model)',
      'ms',
      (samples) => samples.sendToFirstDeltaMs,
      `the ${pincer.sendToFirstDeltaMs.length} turns after ${PEER_WARM_UP_TURNS} untimed ones`,
    ),
    compare(
      'peer_first_delta_added_ms',
      'model first chunk → client first delta',
      'ms',
      (samples) => samples.addedMs,
      'the part of the figure above after the model has answered; the rest is spent before the model call',
    ),
  ];
}

function emptySamples(): PeerSamples {
  return {
    readyMs: [],
    idleRssMib: [],
    idleMainRssMib: [],
    afterTurnsRssMib: Number.NaN,
    afterTurnsMainRssMib: Number.NaN,
    quietRssMib: Number.NaN,
    quietMainRssMib: Number.NaN,
    sendToFirstDeltaMs: [],
    addedMs: [],
    turns: 0,
  };
}

async function runTurns(target: RunningTarget, turns: number, into: PeerSamples, setChunkListener: ChunkListener): Promise<void> {
  const client = await BenchClient.connected(target.wsUrl, { token: target.token, waitForChallenge: true });
  try {
    for (let turn = 0; turn < turns; turn++) {
      const sample = await timedTurn(client, `bench-peer-${turn % PEER_SESSIONS}`, setChunkListener, { label: `peer turn ${turn}`, timeoutMs: TURN_TIMEOUT_MS });
      into.turns++;
      if (turn < PEER_WARM_UP_TURNS) continue;
      into.sendToFirstDeltaMs.push(sample.deltaAt - sample.sentAt);
      into.addedMs.push(sample.deltaAt - sample.chunkAt);
    }
  } finally {
    setChunkListener(undefined);
    client.onEvent = undefined;
    await client.close();
  }
}

