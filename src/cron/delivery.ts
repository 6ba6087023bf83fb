/**
 * Where a finished job's reply goes. A channel (Telegram, …) plugs in as a
 * DeliveryTarget; until one exists, `announce` delivers to the main session,
 * where WebSocket clients watching it see the message arrive live.
 */

import type { CronDelivery, CronDeliveryStatus } from './cron-types.js';
import type { SessionTurns } from './session-turns.js';

/**
 * One channel that can carry job replies. `deliver` resolves once the
 * channel accepted the message and rejects (with a message a user can read)
 * when it did not; it must not retry on its own.
 */
export interface DeliveryTarget {
  /** Channel id used in `delivery.channel`, e.g. `telegram`. */
  readonly channel: string;
  deliver(message: { to: string; text: string; jobId: string; jobName: string }): Promise<void>;
}

export interface DeliveryOutcome {
  status: CronDeliveryStatus;
  delivered?: boolean;
  error?: string;
}

/** Replies that mean "nothing to say" (OpenClaw's silent token): never delivered. */
export const SILENT_REPLY_TOKEN = 'NO_REPLY';

export interface DeliveryRouter {
  /** Channel ids a job may name in `delivery.channel`. */
  channels(): string[];
  /** Add a channel that carries replies (channels start after the scheduler is built). */
  addTarget(target: DeliveryTarget): void;
  /**
   * Deliver `text`, the reply of a run held in `runSessionKey`.
   * Never throws: failures come back as `not-delivered` with the error.
   */
  deliver(request: { delivery: CronDelivery | undefined; text: string; runSessionKey: string; jobId: string; jobName: string }): Promise<DeliveryOutcome>;
}

/** Route deliveries to the main session or to one of `targets`. */
export function createDeliveryRouter(params: { turns: SessionTurns; mainSessionKey: string; targets?: readonly DeliveryTarget[] }): DeliveryRouter {
  const targets = new Map((params.targets ?? []).map((target) => [target.channel, target]));
  return {
    channels: () => [...targets.keys()],
    addTarget: (target) => {
      targets.set(target.channel, target);
    },
    async deliver({ delivery, text, runSessionKey, jobId, jobName }) {
      if (delivery === undefined || delivery.mode === 'none') return { status: 'not-requested' };
      const reply = text.trim();
      if (reply === '' || reply === SILENT_REPLY_TOKEN) return { status: 'not-delivered', delivered: false };
      try {
        const target = delivery.channel === undefined || delivery.channel === 'last' ? undefined : targets.get(delivery.channel);
        if (delivery.channel !== undefined && delivery.channel !== 'last' && target === undefined) {
          throw new Error(`channel ${delivery.channel} is not available`);
        }
        if (target !== undefined) await target.deliver({ to: delivery.to ?? '', text: reply, jobId, jobName });
        // A run in the main session already left its reply there, live: posting it again would duplicate it.
        else if (runSessionKey !== params.mainSessionKey) await params.turns.postMessage(params.mainSessionKey, reply);
        return { status: 'delivered', delivered: true };
      } catch (error) {
        return { status: 'not-delivered', delivered: false, error: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
