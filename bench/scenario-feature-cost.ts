/**
 * What each feature costs when it is on (issue 22 item 5): ready time and
 * idle RSS of a gateway with nothing configured, then with cron holding one
 * job, with one MCP server (the stdio test server of test/helpers), and with
 * the Telegram channel long-polling a fake Bot API on loopback. A
 * gateway that does not use a feature must pay nothing for it, so the
 * nothing-configured figures are those of the start-up scenario; here each
 * feature's figures stand beside them. The Control UI methods are always
 * there, so they are part of every row.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAKE_BOT_TOKEN, startFakeTelegram, type FakeTelegram } from '../test/helpers/fake-telegram.js';
import { BenchClient } from './bench-client.js';
import type { BenchCounts } from './bench-config.js';
import { MIB } from './context.js';
import type { Figure } from './figures.js';
import { summarise, type Summary } from './stats.js';
import { startTarget, type TargetOptions } from './targets.js';

/** The MCP test server run as a stdio child (compiled beside the bench). */
const MCP_SERVER = fileURLToPath(new URL(`../test/helpers/mcp-stdio-server${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/** Fakes shared by every start. */
interface Fakes {
  modelUrl: string;
  telegram: FakeTelegram;
}

interface Feature {
  name: string;
  label: string;
  /** Prepare a state dir for one start (may write files into it); returns the target options. */
  prepare(stateDir: string, fakes: Fakes): Promise<TargetOptions>;
}

const FEATURES: Feature[] = [
  { name: 'none', label: 'nothing configured', prepare: async () => ({}) },
  {
    name: 'cron',
    label: 'cron with one job',
    async prepare(stateDir, { modelUrl }) {
      // A job added through the protocol, then a fresh start that loads it.
      const seed = await startTarget('pincer', { modelUrl, stateDir });
      try {
        const client = await BenchClient.connected(seed.wsUrl, { token: seed.token });
        try {
          await client.request('cron.add', {
            name: 'bench',
            schedule: { kind: 'cron', expr: '0 9 * * *' },
            payload: { kind: 'agentTurn', message: 'Morning brief' },
            delivery: { mode: 'none' },
          });
        } finally {
          await client.close();
        }
      } finally {
        await seed.stop();
      }
      return {};
    },
  },
  {
    name: 'mcp',
    label: 'one MCP server (stdio)',
    prepare: async () => ({ config: { mcp: { servers: { bench: { command: process.execPath, args: [MCP_SERVER, 'normal'] } } } } }),
  },
  {
    name: 'telegram',
    label: 'the Telegram channel (fake Bot API)',
    prepare: async (_stateDir, { telegram }) => ({
      config: { channels: { telegram: { enabled: true, botToken: FAKE_BOT_TOKEN, apiRoot: telegram.url, dmPolicy: 'allowlist', allowFrom: ['111'] } } },
    }),
  },
];

export async function measureFeatureCost(counts: BenchCounts, modelUrl: string, log: (message: string) => void): Promise<Figure[]> {
  const ready = new Map<string, number[]>();
  const rss = new Map<string, number[]>();
  const telegram = await startFakeTelegram();
  try {
    await measureEach(counts, { modelUrl, telegram }, ready, rss, log);
  } finally {
    await telegram.close();
  }
  return figuresOf(counts, ready, rss);
}

async function measureEach(counts: BenchCounts, fakes: Fakes, ready: Map<string, number[]>, rss: Map<string, number[]>, log: (message: string) => void): Promise<void> {
  const { modelUrl } = fakes;
  for (const feature of FEATURES) {
    ready.set(feature.name, []);
    rss.set(feature.name, []);
    for (let run = 0; run < counts.featureRuns; run++) {
      const stateDir = await mkdtemp(join(tmpdir(), `pincer-bench-feature-${feature.name}-`));
      try {
        const options = await feature.prepare(stateDir, fakes);
        const target = await startTarget('pincer', { ...options, modelUrl, stateDir });
        try {
          ready.get(feature.name)!.push(target.readyMs);
          await new Promise((done) => setTimeout(done, Math.max(0, target.spawnedAt + counts.idleAfterMs - performance.now())));
          rss.get(feature.name)!.push((await target.rssBytes()) / MIB);
        } finally {
          await target.stop();
        }
      } finally {
        await rm(stateDir, { recursive: true, force: true });
      }
    }
    log(`feature ${feature.name}: ready ${ready.get(feature.name)!.map((ms) => ms.toFixed(0)).join(' ')} ms, idle RSS ${rss.get(feature.name)!.map((mib) => mib.toFixed(1)).join(' ')} MiB`);
  }
}

function figuresOf(counts: BenchCounts, ready: Map<string, number[]>, rss: Map<string, number[]>): Figure[] {
  const none = { ready: summarise(ready.get('none')!), rss: summarise(rss.get('none')!) };
  const figures: Figure[] = [];
  for (const feature of FEATURES) {
    const baseline = (summary: Summary): Summary | undefined => (feature.name === 'none' ? undefined : summary);
    figures.push(
      {
        id: `feature_ready_ms_${feature.name}`,
        label: `ready time, ${feature.label}`,
        unit: 'ms',
        statistic: 'median',
        pincer: summarise(ready.get(feature.name)!),
        floor: baseline(none.ready),
        note: feature.name === 'none' ? undefined : 'the Floor column here is the gateway with nothing configured, measured in the same run',
      },
      {
        id: `feature_idle_rss_mib_${feature.name}`,
        label: `idle RSS ${(counts.idleAfterMs / 1000).toFixed(0)} s after start, ${feature.label}`,
        unit: 'MiB',
        statistic: 'median',
        pincer: summarise(rss.get(feature.name)!),
        floor: baseline(none.rss),
        note: feature.name === 'none' ? undefined : 'the Floor column here is the gateway with nothing configured, measured in the same run',
      },
    );
  }
  return figures;
}
