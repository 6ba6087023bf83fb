/**
 * A Provider over an ordered chain of models (provider.model, then
 * provider.fallbacks). Each model first makes its own retries (driveStream);
 * when it still fails before any of its output reached the caller, the call
 * moves on to the next model, and the failed one cools down (its Retry-After,
 * else a doubling default) so later calls skip it. A request the endpoint
 * refused as invalid ends the call: the next model would refuse it too. Once a
 * model's text reached the caller the call never switches: a reply must not
 * mix two models' text, so a stream that breaks then ends with an error.
 */

import type { ModelCooldowns } from './model-cooldowns.js';
import type { FailedModelCall, ModelRequest, Provider, ProviderEvent } from './types.js';
import { abortableSleep } from './abortable-sleep.js';

/** Longest wait for the soonest cooling model when every model of the chain is cooling down, ms. */
export const MAX_COOLDOWN_WAIT_MS = 30_000;

/** One model of the chain and its key in the cooldown book. */
export interface ChainModel {
  provider: Provider;
  /** Identity shared by every chain that holds this model (`kind/model@baseUrl`). */
  key: string;
}

type ErrorEvent = Extract<ProviderEvent, { type: 'error' }>;

/** Tries the models of a chain in order; see the module comment. */
export class FailoverProvider implements Provider {
  readonly name: string;
  readonly model: string;
  readonly #chain: readonly ChainModel[];
  readonly #cooldowns: ModelCooldowns;

  /** `chain` holds at least one model; the first is the one this provider is named after. */
  constructor(chain: readonly ChainModel[], cooldowns: ModelCooldowns) {
    const first = chain[0];
    if (first === undefined) throw new Error('a model chain needs at least one model');
    this.name = first.provider.name;
    this.model = first.provider.model;
    this.#chain = chain;
    this.#cooldowns = cooldowns;
  }

  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ProviderEvent> {
    return this.#stream(request, signal);
  }

  async *#stream(request: ModelRequest, signal: AbortSignal): AsyncGenerator<ProviderEvent, void, undefined> {
    const failed: FailedModelCall[] = [];
    const tried = new Set<ChainModel>();
    for (;;) {
      const next = await this.#nextModel(tried, signal);
      if (next === 'aborted') {
        yield { type: 'aborted' };
        return;
      }
      if (next.kind === 'exhausted') {
        yield this.#exhausted(failed);
        return;
      }
      if (next.kind === 'cooling') {
        yield coolingDown(this.#chain.length, next.waitMs);
        return;
      }
      const candidate = next.model;
      tried.add(candidate);
      const { provider, key } = candidate;
      let announced = false;
      let delivered = false;
      const announce = (): ProviderEvent => {
        announced = true;
        const event: ProviderEvent = { type: 'model', provider: provider.name, model: provider.model };
        if (failed.length > 0) event.failedOver = [...failed];
        return event;
      };
      let moveOn = false;
      for await (const event of provider.stream(request, signal)) {
        if (event.type === 'model') continue;
        if (event.type === 'error') {
          if (!event.requestRejected) this.#cooldowns.fail(key, event.message, event.retryAfterMs);
          if (delivered) {
            yield brokenReply(provider, event);
            return;
          }
          if (event.requestRejected || signal.aborted) {
            if (!announced) yield announce();
            yield event;
            return;
          }
          failed.push(failedCall(provider, event));
          moveOn = true;
          break;
        }
        if (!announced) yield announce();
        if (event.type === 'text' || event.type === 'thinking' || event.type === 'toolCall') delivered = true;
        if (event.type === 'done') this.#cooldowns.succeed(key);
        yield event;
        if (event.type === 'done' || event.type === 'aborted') return;
      }
      if (!moveOn) {
        // The Provider contract promises a terminal event; a model that broke it counts as failed.
        const event: ErrorEvent = { type: 'error', message: 'the model stream ended without a final event', retryable: true };
        if (delivered) {
          yield brokenReply(provider, event);
          return;
        }
        failed.push(failedCall(provider, event));
      }
    }
  }

  /** The first untried model that is not cooling down; waits a little for one when all are. */
  async #nextModel(
    tried: ReadonlySet<ChainModel>,
    signal: AbortSignal,
  ): Promise<{ kind: 'model'; model: ChainModel } | { kind: 'exhausted' } | { kind: 'cooling'; waitMs: number } | 'aborted'> {
    const untried = this.#chain.filter((model) => !tried.has(model));
    const ready = untried.find((model) => this.#cooldowns.remainingMs(model.key) === 0);
    if (ready !== undefined) return { kind: 'model', model: ready };
    if (untried.length === 0) return { kind: 'exhausted' };
    let soonest = untried[0] as ChainModel;
    for (const model of untried) {
      if (this.#cooldowns.remainingMs(model.key) < this.#cooldowns.remainingMs(soonest.key)) soonest = model;
    }
    const waitMs = this.#cooldowns.remainingMs(soonest.key);
    // Only when nothing was tried yet: a call that already failed over reports its failures instead.
    if (tried.size > 0) return { kind: 'exhausted' };
    if (waitMs > MAX_COOLDOWN_WAIT_MS) return { kind: 'cooling', waitMs };
    if (!(await abortableSleep(waitMs, signal))) return 'aborted';
    return { kind: 'model', model: soonest };
  }

  /** Every model this call could use failed; the error names each failure. */
  #exhausted(failed: readonly FailedModelCall[]): ProviderEvent {
    const soonest = Math.min(...this.#chain.map((model) => this.#cooldowns.remainingMs(model.key)));
    const causes = failed.map((call) => `${call.provider}/${call.model}: ${call.error}`).join('; ');
    const event: ErrorEvent = { type: 'error', message: `every model of the chain failed (${causes})`, retryable: true };
    const last = failed[failed.length - 1];
    if (last?.status !== undefined) event.status = last.status;
    if (soonest > 0) event.retryAfterMs = soonest;
    return event;
  }
}

/** One failed model for the `failedOver` list and the exhausted message. */
function failedCall(provider: Provider, event: ErrorEvent): FailedModelCall {
  const call: FailedModelCall = { provider: provider.name, model: provider.model, error: event.message };
  if (event.status !== undefined) call.status = event.status;
  return call;
}

function brokenReply(provider: Provider, event: ErrorEvent): ProviderEvent {
  return {
    type: 'error',
    message:
      `the reply from ${provider.name}/${provider.model} broke off after it had started (${event.message}); ` +
      'it was not continued with another model, so that one reply never mixes two models',
    retryable: event.retryable,
    ...(event.status === undefined ? {} : { status: event.status }),
  };
}

function coolingDown(models: number, waitMs: number): ProviderEvent {
  const seconds = Math.ceil(waitMs / 1_000);
  const which = models === 1 ? 'the configured model is' : `all ${models} configured models are`;
  return {
    type: 'error',
    message: `${which} cooling down after failures; the first is available again in ${seconds} s`,
    retryable: true,
    retryAfterMs: waitMs,
  };
}

