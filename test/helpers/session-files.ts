/**
 * Session files written straight to disk, as a gateway would have left them:
 * for start-up tests and the bench, which need large or crashed state fast.
 */

import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sessionFileName } from '../../src/sessions/session-key.js';
import { encodeRecord } from '../../src/sessions/session-records.js';
import type { StoredMessage } from '../../src/sessions/types.js';

export interface SessionFileSpec {
  /** Canonical key, e.g. agent:main:bench-1. */
  key: string;
  /** Finished turns (a user message and its reply each). */
  turns: number;
  /** Epoch ms of the first turn; later turns are one second apart. Default: a day ago. */
  startAt?: number;
  /** Also leave one run cut by a crash: a user message with no reply, last. */
  cutRun?: boolean;
  /** Characters of each message's text (default 40). */
  textChars?: number;
}

/** Write one session file into `dir` (created 0700). Returns the runIds of the finished and cut runs. */
export async function writeSessionFile(dir: string, spec: SessionFileSpec): Promise<{ runIds: string[]; cutRunId?: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const start = spec.startAt ?? Date.now() - 24 * 3600_000;
  const filler = 'x'.repeat(Math.max(0, (spec.textChars ?? 40) - 12));
  const lines = [encodeRecord({ type: 'session', version: 1, key: spec.key, sessionId: randomUUID(), createdAt: start })];
  const runIds: string[] = [];
  const push = (message: StoredMessage): void => {
    lines.push(encodeRecord({ type: 'message', at: message.timestamp, message }));
  };
  for (let turn = 0; turn < spec.turns; turn++) {
    const at = start + turn * 1_000;
    const runId = randomUUID();
    runIds.push(runId);
    push({ id: randomUUID(), role: 'user', content: [{ type: 'text', text: `q${turn} ${filler}` }], timestamp: at, runId, idempotencyKey: runId });
    push({
      id: randomUUID(),
      role: 'assistant',
      content: [{ type: 'text', text: `a${turn} ${filler}` }],
      timestamp: at + 500,
      runId,
      stopReason: 'stop',
      usage: { input: 10, output: 10, totalTokens: 20 },
      provider: 'openai',
      model: 'fake-model',
    });
  }
  let cutRunId: string | undefined;
  if (spec.cutRun === true) {
    cutRunId = randomUUID();
    const at = start + spec.turns * 1_000;
    push({ id: randomUUID(), role: 'user', content: [{ type: 'text', text: `cut ${filler}` }], timestamp: at, runId: cutRunId, idempotencyKey: cutRunId });
  }
  await writeFile(join(dir, sessionFileName(spec.key)), lines.join(''), { mode: 0o600 });
  return { runIds, cutRunId };
}

/** Append a user message with no reply, as a crash during its run leaves it. Returns its runId. */
export async function appendCutRun(dir: string, key: string, at = Date.now()): Promise<string> {
  const runId = randomUUID();
  const message: StoredMessage = { id: randomUUID(), role: 'user', content: [{ type: 'text', text: 'cut by a crash' }], timestamp: at, runId, idempotencyKey: runId };
  await appendFile(join(dir, sessionFileName(key)), encodeRecord({ type: 'message', at, message }));
  return runId;
}
