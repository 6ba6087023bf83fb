/**
 * Calls to the Bot API through grammY's Api (its web build, which needs no
 * node-fetch; requests go through http-fetch.ts), with Telegram's flow control:
 * a 429 waits `retry_after` and tries again, a network failure backs off and
 * tries again, both a bounded number of times; other API errors are thrown
 * as TelegramApiError for the caller to handle (e.g. rejected entities).
 */

import { Api, GrammyError, HttpError } from 'grammy/web';
import { abortableSleep } from '../../providers/abortable-sleep.js';
import { httpFetch } from './http-fetch.js';

/** Tries of one call (the first plus retries) before its error is thrown. */
export const MAX_CALL_ATTEMPTS = 5;
/** First back-off after a network failure, doubled per try, ms. */
export const NETWORK_BACKOFF_START_MS = 500;
/** Longest back-off, ms. */
export const NETWORK_BACKOFF_MAX_MS = 30_000;
/** Methods grammY's raw API calls with the signal alone (it supplies their empty payload). */
const NO_PAYLOAD_METHODS = new Set(['getMe', 'getWebhookInfo', 'logOut', 'close']);
/** Longest `retry_after` honoured inside one call; longer waits fail the call, s. */
const MAX_RETRY_AFTER_S = 120;

/** A Bot API answer with ok: false (other than a 429 we could wait out). */
export class TelegramApiError extends Error {
  readonly code: number;
  readonly description: string;
  readonly retryAfterS: number | undefined;
  constructor(method: string, code: number, description: string, retryAfterS?: number) {
    super(`Telegram ${method} failed: ${code} ${description}`);
    this.name = 'TelegramApiError';
    this.code = code;
    this.description = description;
    this.retryAfterS = retryAfterS;
  }
}

/** The Bot API could not be reached (after the retries). */
export class TelegramNetworkError extends Error {
  constructor(method: string, cause: unknown) {
    super(`cannot reach the Telegram Bot API (${method}): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'TelegramNetworkError';
  }
}

export interface BotClient {
  /** Call a Bot API method; `attempts` 1 turns the retries off (the poller retries on its own). */
  call<T = unknown>(method: string, params: Record<string, unknown>, options?: { signal?: AbortSignal; attempts?: number }): Promise<T>;
  /** URL of a file returned by getFile. */
  fileUrl(filePath: string): string;
  /** 429s waited out so far. */
  readonly rateLimited: number;
}

/** A Bot API client for `token` at `apiRoot`. */
export function createBotClient(params: { token: string; apiRoot: string; onRetry?: (reason: string) => void }): BotClient {
  const api = new Api(params.token, { apiRoot: params.apiRoot, fetch: httpFetch as unknown as typeof fetch });
  const raw = api.raw as unknown as Record<string, (payload: Record<string, unknown>, signal?: AbortSignal) => Promise<unknown>>;
  let rateLimited = 0;
  const never = new AbortController().signal;
  return {
    get rateLimited() {
      return rateLimited;
    },
    fileUrl: (filePath) => `${params.apiRoot}/file/bot${params.token}/${filePath.replace(/^\/+/, '')}`,
    async call<T>(method: string, payload: Record<string, unknown>, options: { signal?: AbortSignal; attempts?: number } = {}): Promise<T> {
      const signal = options.signal ?? never;
      const attempts = options.attempts ?? MAX_CALL_ATTEMPTS;
      let backoffMs = NETWORK_BACKOFF_START_MS;
      for (let attempt = 1; ; attempt++) {
        try {
          const call = raw[method] as (...args: unknown[]) => Promise<unknown>;
          return (await (NO_PAYLOAD_METHODS.has(method) ? call(options.signal) : call(payload, options.signal))) as T;
        } catch (error) {
          if (signal.aborted) throw error;
          if (error instanceof GrammyError) {
            const retryAfter = error.parameters?.retry_after;
            if (error.error_code === 429 && retryAfter !== undefined && retryAfter <= MAX_RETRY_AFTER_S && attempt < attempts) {
              rateLimited++;
              params.onRetry?.(`429 on ${method}: waiting ${retryAfter} s`);
              if (!(await abortableSleep(retryAfter * 1000, signal))) throw error;
              continue;
            }
            throw new TelegramApiError(method, error.error_code, error.description, retryAfter);
          }
          const networkError = error instanceof HttpError ? error.error : error;
          if (attempt >= attempts) throw new TelegramNetworkError(method, networkError);
          params.onRetry?.(`network error on ${method}: retrying in ${backoffMs} ms`);
          if (!(await abortableSleep(backoffMs, signal))) throw error;
          backoffMs = Math.min(backoffMs * 2, NETWORK_BACKOFF_MAX_MS);
        }
      }
    },
  };
}
