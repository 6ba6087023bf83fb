/** What every scenario receives: the two running targets, the fake model and the counts. */

import type { FakeModelServer, RecordedRequest } from '../test/helpers/fake-model-server.js';
import type { BenchCounts } from './bench-config.js';
import type { Target } from './targets.js';

export interface BenchContext {
  counts: BenchCounts;
  pincer: Target;
  floor: Target;
  model: FakeModelServer;
  /** Set to be told (with performance.now()) when the fake model writes a content chunk. */
  setChunkListener(listener: ((request: RecordedRequest, index: number, at: number) => void) | undefined): void;
  log(message: string): void;
}

/** Bytes of MiB. */
export const MIB = 1024 * 1024;
