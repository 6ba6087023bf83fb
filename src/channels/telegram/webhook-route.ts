/**
 * Webhook mode: Telegram POSTs each update to `webhookPath` on Pincer's port
 * with the secret in X-Telegram-Bot-Api-Secret-Token. The secret is checked
 * (in constant time) before the body is read; the answer is 200 only once
 * the update is handled and on disk, so anything else makes Telegram retry.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Update } from 'grammy/types';
import { secretsEqual } from '../../security/secret-compare.js';
import type { ChannelRoute } from '../channel-host.js';

/** Largest update body accepted, bytes (updates are small JSON). */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** The route; `accept` is undefined until the channel has loaded (then Telegram is told to retry). */
export function createWebhookRoute(params: { path: string; secret: string; accept: () => ((update: Update) => Promise<void>) | undefined; onError: (error: unknown) => void }): ChannelRoute {
  return async (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== params.path) return false;
    if (req.method !== 'POST') return answer(res, 405, 'method not allowed', { allow: 'POST' });
    const presented = req.headers[SECRET_HEADER];
    if (!secretsEqual(typeof presented === 'string' ? presented : undefined, params.secret)) {
      req.resume();
      return answer(res, 401, 'bad secret token');
    }
    const accept = params.accept();
    if (accept === undefined) {
      req.resume();
      return answer(res, 503, 'starting', { 'retry-after': '1' });
    }
    const body = await readBody(req);
    if (body === undefined) return answer(res, 413, 'update too large');
    let update: Update;
    try {
      update = JSON.parse(body) as Update;
    } catch {
      return answer(res, 400, 'expected a JSON update');
    }
    if (typeof update !== 'object' || update === null || !Number.isSafeInteger(update.update_id)) return answer(res, 400, 'expected an update with update_id');
    try {
      await accept(update);
    } catch (error) {
      params.onError(error);
      return answer(res, 503, 'try again', { 'retry-after': '1' });
    }
    return answer(res, 200, '');
  };
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_WEBHOOK_BODY_BYTES) {
      req.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function answer(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): true {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
  return true;
}
