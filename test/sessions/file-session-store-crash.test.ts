import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSessionStore } from '../../src/sessions/file-session-store.js';
import { captureLogger } from './fixtures/messages.js';

const CRASH_KEYS = ['agent:main:crash-a', 'agent:main:crash-b'];
const ROUNDS = 4;
const ROUND_TIMEOUT_MS = 15_000;
const MIN_ACKS_BEFORE_KILL = 20;
const MAX_KILL_DELAY_MS = 150;

let root: string;
const children = new Set<ChildProcess>();

before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'pincer-crash-'));
});

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await fs.rm(root, { recursive: true, force: true });
});

/** Spawn the append loop: the .ts source via tsx under tsx, the compiled .js from dist. */
function spawnAppender(dir: string, tag: string): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(new URL(`./fixtures/append-loop.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const args = fromSource ? ['--import', 'tsx', script] : [script];
  const child = spawn(process.execPath, [...args, 'run', dir, tag, ...CRASH_KEYS], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Run one child until it has acknowledged some appends, SIGKILL it at a random moment, return the acks. */
async function runAndKill(dir: string, tag: string): Promise<Map<string, string[]>> {
  const child = spawnAppender(dir, tag);
  const acked = new Map<string, string[]>(CRASH_KEYS.map((key) => [key, []]));
  let stderr = '';
  let buffered = '';
  let count = 0;
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => {
    child.on('exit', (code, signal) => resolve(signal ?? code));
  });
  await new Promise<void>((resolve, reject) => {
    const fail = () => reject(new Error(`child too slow; acks ${count}; stderr: ${stderr}`));
    const timer = setTimeout(fail, ROUND_TIMEOUT_MS);
    let scheduled = false;
    child.on('exit', () => {
      clearTimeout(timer);
      if (!scheduled) reject(new Error(`child exited early; stderr: ${stderr}`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') continue;
        const [key, id] = line.split(' ');
        acked.get(key)!.push(id);
        count++;
      }
      if (!scheduled && count >= MIN_ACKS_BEFORE_KILL) {
        scheduled = true;
        setTimeout(() => {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }, Math.floor(Math.random() * MAX_KILL_DELAY_MS));
      }
    });
  });
  assert.equal(await exited, 'SIGKILL');
  // Acks printed before the kill may still sit in the pipe: count them too.
  for (const line of buffered.split('\n').filter(Boolean)) {
    const [key, id] = line.split(' ');
    if (id !== undefined && acked.has(key)) acked.get(key)!.push(id);
  }
  return acked;
}

describe('FileSessionStore crash safety', () => {
  it('keeps every acknowledged message exactly once across SIGKILLs mid-write', async () => {
    const dir = join(root, 'sessions');
    const everAcked = new Map<string, string[]>(CRASH_KEYS.map((key) => [key, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const acked = await runAndKill(dir, `r${round}`);
      for (const [key, ids] of acked) everAcked.get(key)!.push(...ids);

      const logger = captureLogger();
      const store = new FileSessionStore({ dir, logger });
      await store.open();
      try {
        for (const key of CRASH_KEYS) {
          const page = await store.history(key);
          const stored = page.messages.map((m) => m.id);
          assert.equal(new Set(stored).size, stored.length, 'no message stored twice');
          const position = new Map(stored.map((id, i) => [id, i]));
          let last = -1;
          for (const id of everAcked.get(key)!) {
            const at = position.get(id);
            assert.ok(at !== undefined, `acknowledged ${id} is stored (round ${round})`);
            assert.ok(at > last, `${id} in acknowledgement order`);
            last = at;
          }
          assert.equal(store.get(key)?.messageCount, stored.length);
        }
      } finally {
        await store.close();
      }
    }
    const total = [...everAcked.values()].reduce((sum, ids) => sum + ids.length, 0);
    assert.ok(total >= ROUNDS * MIN_ACKS_BEFORE_KILL, `acks ${total}`);
  });
});
