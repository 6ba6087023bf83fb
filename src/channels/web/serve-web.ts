/**
 * Serves the built web chat (the output of scripts/build-web.mjs) on the
 * gateway's HTTP port: GET and HEAD of `/`, `/index.html` and `/assets/<file>`,
 * with a strict Content-Security-Policy and cache headers. Files are read once,
 * on the first request, and kept in memory with their gzip form.
 */

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { packageRoot } from '../../util/package-info.js';
import { acceptsEncoding, baseHeaders, etagMatches, pageHeaders, sendText, socketSources } from './static-http.js';

const gzip = promisify(gzipCallback);

/** Smaller bodies are sent as they are: gzip would not pay for its header. */
const MIN_GZIP_BYTES = 1024;
/** Hashed asset names never change content, so browsers may keep them for a year. */
const IMMUTABLE_MAX_AGE_S = 31_536_000;
const ASSETS_PREFIX = '/assets/';
/** `name-<10 hex>.ext`, as written by scripts/build-web.mjs. */
const HASHED_NAME = /-[0-9a-f]{10}\.[a-z0-9]+$/;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

export interface WebHandlerOptions {
  /** Directory holding index.html and assets/ (dist/web after `npm run build`). */
  assetsDir: string;
}

/** Handles the request and returns true when the path belongs to the web chat; false leaves it to the caller. */
export type WebHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

interface Asset {
  body: Buffer;
  gzipped: Buffer | null;
  contentType: string;
  etag: string;
  cacheControl: string;
  isPage: boolean;
}

type Loaded = { built: true; files: Map<string, Asset> } | { built: false };

/** Create the handler for `/` and `/assets/*`. */
export function createWebHandler(options: WebHandlerOptions): WebHandler {
  const assetsDir = path.resolve(options.assetsDir);
  let loading: Promise<Loaded> | null = null;
  const load = (): Promise<Loaded> => {
    loading ??= loadAssets(assetsDir).then((loaded) => {
      // Not built yet: look again on the next request instead of caching the miss.
      if (!loaded.built) loading = null;
      return loaded;
    });
    return loading;
  };

  return (req, res) => {
    const pathname = (req.url ?? '/').split(/[?#]/, 1)[0] ?? '/';
    const isPage = pathname === '/' || pathname === '/index.html';
    if (!isPage && !pathname.startsWith(ASSETS_PREFIX)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'Method Not Allowed', { allow: 'GET, HEAD' });
      return true;
    }
    load().then(
      (loaded) => {
        if (!loaded.built) {
          sendText(res, 503, 'The web chat is not built. Run `npm run build`.', { 'retry-after': '5' });
          return;
        }
        const asset = loaded.files.get(isPage ? '/index.html' : pathname);
        if (!asset) {
          sendText(res, 404, 'Not Found');
          return;
        }
        sendAsset(req, res, asset);
      },
      () => sendText(res, 500, 'Internal Server Error'),
    );
    return true;
  };
}

/**
 * Where `npm run build` puts the web chat: <package root>/dist/web, whether
 * Pincer runs bundled, compiled or from the sources.
 */
export function defaultWebAssetsDir(): string {
  return path.join(packageRoot() ?? process.cwd(), 'dist', 'web');
}

async function loadAssets(dir: string): Promise<Loaded> {
  let page: Buffer;
  try {
    page = await readFile(path.join(dir, 'index.html'));
  } catch (error) {
    if (isMissing(error)) return { built: false };
    throw error;
  }
  const files = new Map<string, Asset>();
  files.set('/index.html', await toAsset('index.html', page, true));
  let names: string[] = [];
  try {
    names = await readdir(path.join(dir, 'assets'));
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  for (const name of names) {
    const ext = path.extname(name);
    if (!(ext in CONTENT_TYPES)) continue;
    const body = await readFile(path.join(dir, 'assets', name));
    files.set(`${ASSETS_PREFIX}${name}`, await toAsset(name, body, false));
  }
  return { built: true, files };
}

async function toAsset(name: string, body: Buffer, isPage: boolean): Promise<Asset> {
  const ext = path.extname(name);
  const gzipped = COMPRESSIBLE.has(ext) && body.length >= MIN_GZIP_BYTES ? await gzip(body) : null;
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  const cacheControl = !isPage && HASHED_NAME.test(name) ? `public, max-age=${IMMUTABLE_MAX_AGE_S}, immutable` : 'no-cache';
  return { body, gzipped, contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream', etag, cacheControl, isPage };
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  const headers: Record<string, string> = {
    ...baseHeaders(),
    'content-type': asset.contentType,
    'cache-control': asset.cacheControl,
    etag: asset.etag,
  };
  if (asset.isPage) Object.assign(headers, webChatPageHeaders(req.headers.host));
  else headers['cross-origin-resource-policy'] = 'same-origin';
  if (asset.gzipped) headers['vary'] = 'accept-encoding';

  if (etagMatches(req.headers['if-none-match'], asset.etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const useGzip = asset.gzipped !== null && acceptsEncoding(req.headers['accept-encoding'], 'gzip');
  const body = useGzip && asset.gzipped ? asset.gzipped : asset.body;
  if (useGzip) headers['content-encoding'] = 'gzip';
  headers['content-length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The web chat page: no inline script or style, sockets only to this host, no framing. */
function webChatPageHeaders(host: string | undefined): Record<string, string> {
  return pageHeaders([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    `connect-src 'self'${socketSources(host)}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    // The page builds its DOM without HTML strings, so every HTML sink can be closed.
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ]);
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');
}
