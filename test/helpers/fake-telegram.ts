/**
 * A fake Telegram Bot API on 127.0.0.1 for the channel tests: getMe,
 * getUpdates (long poll, with offsets confirming updates as Telegram does),
 * sendMessage, editMessageText, sendChatAction, getFile and file downloads,
 * setWebhook/deleteWebhook (and delivering updates to the webhook), plus
 * scripted failures: a 429 with retry_after, and HTML entities it rejects as
 * Telegram does. Point `channels.telegram.apiRoot` at `url`.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_BOT_TOKEN = '123456789:AAFakeTokenForTestsOnly_abcdefghijk';
export const FAKE_BOT = { id: 123456789, is_bot: true, first_name: 'Pincer Test', username: 'pincer_test_bot' };

/** Tags Telegram's HTML parse mode accepts. */
const ALLOWED_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'span', 'tg-spoiler', 'blockquote', 'tg-emoji']);
const MAX_TEXT_CHARS = 4096;

export interface FakeUser {
  id: number;
  first_name: string;
  username?: string;
}

export interface FakeChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
}

/** A message the bot sent, with every version of its text. */
export interface BotMessage {
  message_id: number;
  chatId: number;
  text: string;
  parseMode?: string;
  replyTo?: number;
  /** Texts after each edit, oldest first. */
  edits: { text: string; parseMode?: string; at: number }[];
  sentAt: number;
}

export interface ScriptedFailure {
  code: number;
  description: string;
  retryAfter?: number;
}

export interface FakeTelegram {
  /** Bot API root (no /bot<token>). */
  readonly url: string;
  readonly token: string;
  /** Messages the bot sent, in order. */
  readonly sent: BotMessage[];
  /** sendChatAction calls: chat id and action. */
  readonly chatActions: { chatId: number; action: string }[];
  /** Every API call by method name, in order. */
  readonly calls: { method: string; params: Record<string, unknown>; at: number }[];
  /** How many times getUpdates returned each update id. */
  readonly handedOut: Map<number, number>;
  /** The webhook set by setWebhook, if any. */
  readonly webhook: { url: string; secret?: string } | undefined;
  /** Queue an incoming text message; returns its update id. */
  sendText(from: FakeUser, text: string, options?: { chat?: FakeChat; replyToBotMessage?: number; entities?: unknown[] }): number;
  /** Queue an incoming photo (served through getFile); returns its update id. */
  sendPhoto(from: FakeUser, bytes: Buffer, options?: { caption?: string; chat?: FakeChat }): number;
  /** Queue a raw message object (stickers, voice, …); returns its update id. */
  sendMessageUpdate(message: Record<string, unknown>): number;
  /** Make the next calls of `method` fail (in order). */
  failNext(method: string, ...failures: ScriptedFailure[]): void;
  /** Reject the next HTML message as unparseable, as Telegram does for bad entities. */
  rejectNextHtml(): void;
  /** POST a queued update to the webhook with `secret` (default: the registered one); returns the HTTP status. */
  deliverWebhook(updateId: number, secret?: string): Promise<number>;
  /** Messages in one chat. */
  messagesIn(chatId: number): BotMessage[];
  /** Resolve once `predicate` holds (checked on every call and every 20 ms); reject after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number, label?: string): Promise<void>;
  close(): Promise<void>;
}

interface PendingUpdate {
  update_id: number;
  message: Record<string, unknown>;
}

/** Start the fake; `maxPollWaitMs` caps how long getUpdates holds a request (default 2000). */
export async function startFakeTelegram(options: { token?: string; maxPollWaitMs?: number } = {}): Promise<FakeTelegram> {
  const token = options.token ?? FAKE_BOT_TOKEN;
  const maxPollWaitMs = options.maxPollWaitMs ?? 2_000;
  const updates: PendingUpdate[] = [];
  const allUpdates = new Map<number, PendingUpdate>();
  const sent: BotMessage[] = [];
  const chatActions: { chatId: number; action: string }[] = [];
  const calls: { method: string; params: Record<string, unknown>; at: number }[] = [];
  const handedOut = new Map<number, number>();
  const failures = new Map<string, ScriptedFailure[]>();
  const files = new Map<string, { path: string; bytes: Buffer }>();
  const waiters = new Set<() => void>();
  const pollers = new Set<() => void>();
  let webhook: { url: string; secret?: string } | undefined;
  let rejectHtml = 0;
  let nextUpdateId = 1000;
  let nextMessageId = 1;
  let nextInboundMessageId = 5000;

  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const wakePollers = (): void => {
    for (const poller of [...pollers]) poller();
  };
  const queue = (message: Record<string, unknown>): number => {
    const update = { update_id: nextUpdateId++, message: { message_id: nextInboundMessageId++, date: Math.floor(Date.now() / 1000), ...message } };
    updates.push(update);
    allUpdates.set(update.update_id, update);
    wakePollers();
    return update.update_id;
  };
  const chatFor = (from: FakeUser, chat?: FakeChat): FakeChat => chat ?? { id: from.id, type: 'private' };

  const handlers: Record<string, (params: Record<string, unknown>, req: IncomingMessage) => unknown | Promise<unknown>> = {
    getMe: () => FAKE_BOT,
    getUpdates: async (params, req) => {
      if (webhook !== undefined) throw { code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" };
      const offset = typeof params.offset === 'number' ? params.offset : undefined;
      // An offset confirms every update before it: Telegram forgets them.
      if (offset !== undefined) for (let i = updates.length - 1; i >= 0; i--) if (updates[i].update_id < offset) updates.splice(i, 1);
      const waitMs = Math.min(maxPollWaitMs, Math.max(0, Number(params.timeout ?? 0) * 1000));
      if (updates.length === 0 && waitMs > 0) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            pollers.delete(done);
            req.off('close', done);
            resolve();
          };
          const timer = setTimeout(done, waitMs);
          pollers.add(done);
          req.on('close', done);
        });
      }
      const batch = updates.slice(0, Number(params.limit ?? 100));
      for (const update of batch) handedOut.set(update.update_id, (handedOut.get(update.update_id) ?? 0) + 1);
      return batch;
    },
    sendMessage: (params) => {
      const text = checkText(params);
      const message: BotMessage = {
        message_id: nextMessageId++,
        chatId: Number(params.chat_id),
        text,
        ...(typeof params.parse_mode === 'string' ? { parseMode: params.parse_mode } : {}),
        ...(isRecord(params.reply_parameters) ? { replyTo: Number(params.reply_parameters.message_id) } : {}),
        edits: [],
        sentAt: Date.now(),
      };
      sent.push(message);
      return { message_id: message.message_id, date: Math.floor(Date.now() / 1000), chat: { id: message.chatId, type: 'private' }, from: FAKE_BOT, text };
    },
    editMessageText: (params) => {
      const message = sent.find((candidate) => candidate.message_id === Number(params.message_id) && candidate.chatId === Number(params.chat_id));
      if (message === undefined) throw { code: 400, description: 'Bad Request: message to edit not found' };
      const text = checkText(params);
      const current = message.edits.at(-1) ?? message;
      if (current.text === text && current.parseMode === params.parse_mode) {
        throw { code: 400, description: 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message' };
      }
      message.edits.push({ text, ...(typeof params.parse_mode === 'string' ? { parseMode: params.parse_mode } : {}), at: Date.now() });
      return { message_id: message.message_id, date: Math.floor(Date.now() / 1000), chat: { id: message.chatId, type: 'private' }, text };
    },
    sendChatAction: (params) => {
      chatActions.push({ chatId: Number(params.chat_id), action: String(params.action) });
      return true;
    },
    getFile: (params) => {
      const file = files.get(String(params.file_id));
      if (file === undefined) throw { code: 400, description: 'Bad Request: invalid file_id' };
      return { file_id: params.file_id, file_unique_id: `u${params.file_id}`, file_size: file.bytes.length, file_path: file.path };
    },
    setWebhook: (params) => {
      webhook = { url: String(params.url), ...(typeof params.secret_token === 'string' ? { secret: params.secret_token } : {}) };
      return true;
    },
    deleteWebhook: () => {
      webhook = undefined;
      return true;
    },
    setMyCommands: () => true,
  };

  /** Text of a send or edit, validated as Telegram does. */
  const checkText = (params: Record<string, unknown>): string => {
    const text = typeof params.text === 'string' ? params.text : '';
    if (text.trim() === '') throw { code: 400, description: 'Bad Request: message text is empty' };
    if (params.parse_mode === 'HTML') {
      if (rejectHtml > 0) {
        rejectHtml--;
        throw { code: 400, description: "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"" };
      }
      const problem = htmlProblem(text);
      if (problem !== undefined) throw { code: 400, description: `Bad Request: can't parse entities: ${problem}` };
      if (visibleText(text).length > MAX_TEXT_CHARS) throw { code: 400, description: 'Bad Request: message is too long' };
    } else if (text.length > MAX_TEXT_CHARS) throw { code: 400, description: 'Bad Request: message is too long' };
    return text;
  };

  const server = createServer((req, res) => {
    void route(req, res);
  });
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const filePrefix = `/file/bot${token}/`;
    if (req.method === 'GET' && url.pathname.startsWith(filePrefix)) {
      const path = decodeURIComponent(url.pathname.slice(filePrefix.length));
      const file = [...files.values()].find((candidate) => candidate.path === path);
      if (file === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.bytes.length }).end(file.bytes);
      return;
    }
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (match === null) return void res.writeHead(404).end();
    if (match[1] !== token) return reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = match[2];
    const params = await readParams(req, url);
    calls.push({ method, params, at: Date.now() });
    notify();
    const failure = failures.get(method)?.shift();
    if (failure !== undefined) {
      return reply(res, failure.code, {
        ok: false,
        error_code: failure.code,
        description: failure.description,
        ...(failure.retryAfter === undefined ? {} : { parameters: { retry_after: failure.retryAfter } }),
      });
    }
    const handler = handlers[method];
    if (handler === undefined) return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    try {
      const result = await handler(params, req);
      reply(res, 200, { ok: true, result });
    } catch (error) {
      const { code, description } = error as { code: number; description: string };
      reply(res, code ?? 500, { ok: false, error_code: code ?? 500, description: description ?? String(error) });
    } finally {
      notify();
    }
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const ticker = setInterval(notify, 20);
  ticker.unref();

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    sent,
    chatActions,
    calls,
    handedOut,
    get webhook() {
      return webhook;
    },
    sendText(from, text, opts = {}) {
      const message: Record<string, unknown> = { from: { is_bot: false, ...from }, chat: chatFor(from, opts.chat), text };
      if (opts.entities !== undefined) message.entities = opts.entities;
      if (opts.replyToBotMessage !== undefined) message.reply_to_message = { message_id: opts.replyToBotMessage, from: FAKE_BOT, chat: chatFor(from, opts.chat), date: 0, text: '' };
      return queue(message);
    },
    sendPhoto(from, bytes, opts = {}) {
      const fileId = `photo-${files.size + 1}`;
      files.set(fileId, { path: `photos/file_${files.size + 1}.jpg`, bytes });
      const small = `${fileId}-small`;
      files.set(small, { path: `photos/file_${files.size + 1}_small.jpg`, bytes: bytes.subarray(0, Math.min(bytes.length, 16)) });
      const message: Record<string, unknown> = {
        from: { is_bot: false, ...from },
        chat: chatFor(from, opts.chat),
        photo: [
          { file_id: small, file_unique_id: `u${small}`, width: 90, height: 90, file_size: Math.min(bytes.length, 16) },
          { file_id: fileId, file_unique_id: `u${fileId}`, width: 800, height: 600, file_size: bytes.length },
        ],
      };
      if (opts.caption !== undefined) message.caption = opts.caption;
      return queue(message);
    },
    sendMessageUpdate: (message) => queue(message),
    failNext(method, ...list) {
      failures.set(method, [...(failures.get(method) ?? []), ...list]);
    },
    rejectNextHtml() {
      rejectHtml++;
    },
    async deliverWebhook(updateId, secret) {
      if (webhook === undefined) throw new Error('no webhook is set');
      const update = allUpdates.get(updateId);
      if (update === undefined) throw new Error(`no update ${updateId}`);
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secret ?? webhook.secret ? { 'x-telegram-bot-api-secret-token': (secret ?? webhook.secret) as string } : {}) },
        body: JSON.stringify(update),
        signal: AbortSignal.timeout(20_000),
      });
      await response.arrayBuffer();
      return response.status;
    },
    messagesIn: (chatId) => sent.filter((message) => message.chatId === chatId),
    waitFor(predicate, timeoutMs = 15_000, label = 'condition') {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = (): void => {
          let ok = false;
          try {
            ok = predicate();
          } catch (error) {
            finish();
            reject(error);
            return;
          }
          if (ok) {
            finish();
            resolve();
          }
        };
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`fake Telegram: timed out after ${timeoutMs} ms waiting for ${label}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async close() {
      clearInterval(ticker);
      wakePollers();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The final text of a bot message (after its last edit). */
export function finalText(message: BotMessage): string {
  return message.edits.at(-1)?.text ?? message.text;
}

/** Why Telegram would refuse `html`, or undefined when it parses. */
export function htmlProblem(html: string): string | undefined {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z-]*)([^<>]*)>|<|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+)?;?/g;
  for (let match = tag.exec(html); match !== null; match = tag.exec(html)) {
    const token = match[0];
    if (token.startsWith('&')) {
      if (!/^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);$/.test(token)) return `Unsupported entity at byte offset ${match.index}`;
      continue;
    }
    if (token === '<') return `Unsupported start tag at byte offset ${match.index}`;
    const [, closing, name] = match;
    const lower = name.toLowerCase();
    if (!ALLOWED_TAGS.has(lower)) return `Unsupported start tag "${name}" at byte offset ${match.index}`;
    if (closing === '/') {
      if (stack.pop() !== lower) return `Unexpected end tag at byte offset ${match.index}`;
    } else stack.push(lower);
  }
  if (stack.length > 0) return `Can't find end tag corresponding to start tag "${stack.at(-1)}"`;
  return undefined;
}

/** The text a user sees of `html`. */
export function visibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  const body = Buffer.concat(chunks).toString('utf8');
  if (body === '') return Object.fromEntries(url.searchParams);
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(body));
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
