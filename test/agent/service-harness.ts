/**
 * A real AgentService on a real FileSessionStore in a temp dir and a real
 * bus, recording every bus event, for the service tests.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createAgentService } from '../../src/agent/agent-service.js';
import type { AgentServiceOptions, CreateAgentServiceParams, PincerAgentService } from '../../src/agent/agent-service.js';
import type { AgentEvent, RunEvent } from '../../src/agent/types.js';
import { createEventBus } from '../../src/bus/event-bus.js';
import type { OutboundBus } from '../../src/bus/types.js';
import type { Provider } from '../../src/providers/types.js';
import { FileSessionStore } from '../../src/sessions/file-session-store.js';
import type { SessionStore } from '../../src/sessions/types.js';

export const MAIN = 'agent:main:main';
/** Upper bound for any wait in these tests (ms). */
export const WAIT_MS = 5_000;

export interface Harness {
  dir: string;
  store: SessionStore;
  bus: OutboundBus<AgentEvent>;
  agent: PincerAgentService;
  events: AgentEvent[];
  runEvents(runId: string): RunEvent[];
  /** Resolves with the run.end of runId (bounded by WAIT_MS). */
  runEnd(runId: string): Promise<Extract<RunEvent, { type: 'run.end' }>>;
  /** Resolves with the first event matching `match` (bounded by WAIT_MS). */
  nextEvent<T extends AgentEvent>(match: (event: AgentEvent) => event is T): Promise<T>;
  nextEvent(match: (event: AgentEvent) => boolean): Promise<AgentEvent>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  provider: Provider | undefined;
  options?: Partial<AgentServiceOptions>;
  /** Reuse a state dir (restart tests). */
  dir?: string;
  /** Wrap the store (fault injection). */
  wrapStore?: (store: SessionStore) => SessionStore;
  extra?: Partial<CreateAgentServiceParams>;
}

const silent = { warn: () => undefined, error: () => undefined };

export async function startHarness(config: HarnessOptions): Promise<Harness> {
  const dir = config.dir ?? (await mkdtemp(join(tmpdir(), 'pincer-agent-')));
  const fileStore = new FileSessionStore({ dir: join(dir, 'sessions'), logger: { warn: () => undefined } });
  await fileStore.open();
  const store = config.wrapStore?.(fileStore) ?? fileStore;
  const bus = createEventBus<AgentEvent>();
  const events: AgentEvent[] = [];
  const watchers = new Set<{ match: (e: AgentEvent) => boolean; resolve: (e: AgentEvent) => void }>();
  const subscription = bus.subscribe(
    (event) => {
      events.push(event);
      for (const w of watchers) {
        if (w.match(event)) {
          watchers.delete(w);
          w.resolve(event);
        }
      }
    },
    { maxQueue: 1_000_000 },
  );
  const agent = createAgentService({
    store,
    bus,
    provider: config.provider,
    logger: silent,
    ...config.extra,
    options: { maxConcurrentRuns: 8, maxMessageChars: 100_000, historyLimit: 200, ...config.options },
  });

  function nextEvent(match: (event: AgentEvent) => boolean): Promise<AgentEvent> {
    const seen = events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(watcher);
        reject(new Error('timed out waiting for a bus event'));
      }, WAIT_MS);
      const watcher = {
        match,
        resolve: (e: AgentEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      watchers.add(watcher);
    });
  }

  return {
    dir,
    store,
    bus,
    agent,
    events,
    runEvents: (runId) => events.filter((e): e is RunEvent => 'runId' in e && e.runId === runId),
    runEnd: (runId) =>
      nextEvent((e) => e.type === 'run.end' && e.runId === runId) as Promise<Extract<RunEvent, { type: 'run.end' }>>,
    nextEvent: nextEvent as Harness['nextEvent'],
    async close() {
      await agent.drain(1_000);
      subscription.unsubscribe();
      await fileStore.close();
      if (config.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
