/**
 * An in-test Provider that plays scripted model calls: one list of events per
 * call, with optional pauses, honouring abort like the real providers do.
 */

import type { ModelRequest, Provider, ProviderEvent } from '../../src/providers/types.js';

export type ScriptStep = ProviderEvent | { type: 'pause'; ms: number } | { type: 'hang' };
export type CallScript = ScriptStep[] | ((request: ModelRequest, call: number) => ScriptStep[]);

export interface ScriptedProvider extends Provider {
  /** Requests received, in order (deep copies). */
  readonly requests: ModelRequest[];
  /** Calls currently streaming. */
  readonly open: number;
}

/** Plays `scripts[i]` for the i-th call; calls past the end replay the last script. */
export function createScriptedProvider(scripts: CallScript[], options: { ignoreAbort?: boolean; name?: string } = {}): ScriptedProvider {
  const requests: ModelRequest[] = [];
  let open = 0;
  return {
    name: options.name ?? 'scripted',
    model: 'scripted-model',
    requests,
    get open() {
      return open;
    },
    async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ProviderEvent> {
      const call = requests.length;
      requests.push(structuredClone(request));
      const script = scripts[Math.min(call, scripts.length - 1)];
      const steps = typeof script === 'function' ? script(request, call) : (script ?? []);
      open++;
      try {
        for (const step of steps) {
          if (!options.ignoreAbort && signal.aborted) {
            yield { type: 'aborted' };
            return;
          }
          if (step.type === 'pause' || step.type === 'hang') {
            const ms = step.type === 'pause' ? step.ms : 60_000;
            const finished = await sleep(ms, options.ignoreAbort ? undefined : signal);
            if (!finished) {
              yield { type: 'aborted' };
              return;
            }
            continue;
          }
          yield step;
          if (step.type === 'done' || step.type === 'error' || step.type === 'aborted') return;
        }
      } finally {
        open--;
      }
    },
  };
}

/** Resolves true after ms, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Text chunks then done. */
export function textReply(chunks: string[], usage = { input: 10, output: 5, totalTokens: 15 }): ScriptStep[] {
  return [...chunks.map((delta): ScriptStep => ({ type: 'text', delta })), { type: 'usage', usage }, { type: 'done', stopReason: 'stop' }];
}

/** Tool calls then done(toolUse). */
export function toolReply(calls: { id: string; name: string; arguments: Record<string, unknown> | null; raw?: string }[]): ScriptStep[] {
  return [
    ...calls.map((c): ScriptStep => ({
      type: 'toolCall',
      id: c.id,
      name: c.name,
      arguments: c.arguments,
      rawArguments: c.raw ?? JSON.stringify(c.arguments),
    })),
    { type: 'usage', usage: { input: 20, output: 3, totalTokens: 23 } },
    { type: 'done', stopReason: 'toolUse' },
  ];
}
