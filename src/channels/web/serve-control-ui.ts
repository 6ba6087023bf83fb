/**
 * Serves a Control UI build (`gateway.controlUi.root`) under its base path on
 * the gateway's port, so the UI's WebSocket is same-origin. Files are read
 * from disk per request and confined to the root: every path segment is
 * decoded once and checked, and the real path (symlinks resolved) must stay
 * inside the root's real path. Paths without a file extension get the app
 * shell (index.html), so deep links and reloads work.
 */

import { createReadStream, type Stats } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { controlUiCsp, prepareControlUiPage, type PreparedPage } from './control-ui-page.js';
import { acceptsEncoding, baseHeaders, etagMatches, pageHeaders, sendText } from './static-http.js';
import type { WebHandler } from './serve-web.js';

/** Hashed build outputs (`name-AbC123xy.js`) never change content. */
const HASHED_ASSET = /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';

export const CONTROL_UI_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
};
/** Precompressed siblings the build may ship (`x.js.br`), in order of preference. */
const PRECOMPRESSED: readonly { coding: string; suffix: string }[] = [
  { coding: 'br', suffix: '.br' },
  { coding: 'gzip', suffix: '.gz' },
];

export interface ControlUiHandlerOptions {
  /** Directory holding the build's index.html (checked at config load). */
  root: string;
  /** `/openclaw`: leading slash, no trailing slash. */
  basePath: string;
}

/** The handler for `<basePath>` and everything under it; false for other paths. */
export function createControlUiHandler(options: ControlUiHandlerOptions): WebHandler {
  const { basePath } = options;
  let rootReal: Promise<string> | undefined;
  let page: { key: string; prepared: PreparedPage } | undefined;

  const preparedPage = async (root: string): Promise<PreparedPage> => {
    const file = path.join(root, 'index.html');
    const info = await stat(file);
    const key = `${info.ino}:${info.size}:${info.mtimeMs}`;
    if (page?.key !== key) page = { key, prepared: prepareControlUiPage(await readFile(file, 'utf8'), basePath) };
    return page.prepared;
  };

  return (req, res) => {
    const [pathname = '/', query] = splitUrl(req.url);
    if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'Method Not Allowed', { allow: 'GET, HEAD' });
      return true;
    }
    if (pathname === basePath) {
      // Relative URLs in the app resolve against the directory, so the page lives at `<basePath>/`.
      sendText(res, 308, 'Permanent Redirect', { location: `${basePath}/${query === undefined ? '' : `?${query}`}` });
      return true;
    }
    const segments = safeSegments(pathname.slice(basePath.length + 1));
    if (segments === undefined) {
      sendText(res, 404, 'Not Found');
      return true;
    }
    rootReal ??= realpath(options.root);
    serve(req, res, segments).catch(() => sendText(res, 500, 'Internal Server Error'));
    return true;
  };

  async function serve(req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<void> {
    const root = await (rootReal ??= realpath(options.root));
    if (segments.length > 0 && !(segments.length === 1 && segments[0] === 'index.html')) {
      const file = await confinedFile(root, segments);
      if (file !== undefined) return sendFile(req, res, root, file, segments);
      // A missing file with an extension is a missing asset; anything else is an app route.
      if (path.extname(segments.at(-1)!) !== '') return sendText(res, 404, 'Not Found');
    }
    const prepared = await preparedPage(root);
    const body = Buffer.from(prepared.html, 'utf8');
    res.writeHead(200, {
      ...baseHeaders(),
      ...pageHeaders(controlUiCsp(prepared.scriptHashes, req.headers.host)),
      'content-type': CONTROL_UI_CONTENT_TYPES['.html']!,
      'cache-control': 'no-cache',
      'content-length': String(body.length),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

/** The URL path and query, split once. */
function splitUrl(url: string | undefined): [string, string | undefined] {
  const raw = (url ?? '/').split('#', 1)[0] ?? '/';
  const at = raw.indexOf('?');
  return at < 0 ? [raw, undefined] : [raw.slice(0, at), raw.slice(at + 1)];
}

/**
 * Decode each segment once and refuse anything that could leave the root or
 * reach a hidden file: `.`/`..`, separators or NUL after decoding, leading dots,
 * empty segments and bad escapes. The result names a path under the root.
 */
export function safeSegments(rest: string): string[] | undefined {
  if (rest === '') return [];
  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '' || segment.startsWith('.') || /[/\\\0]/.test(segment)) return undefined;
    segments.push(segment);
  }
  return segments;
}

interface ConfinedFile {
  path: string;
  info: Stats;
}

/** The regular file at root/segments when its real path stays inside the root's real path. */
async function confinedFile(root: string, segments: string[]): Promise<ConfinedFile | undefined> {
  try {
    const real = await realpath(path.join(root, ...segments));
    if (!real.startsWith(`${root}${path.sep}`)) return undefined;
    const info = await stat(real);
    return info.isFile() ? { path: real, info } : undefined;
  } catch {
    return undefined;
  }
}

async function sendFile(req: IncomingMessage, res: ServerResponse, root: string, file: ConfinedFile, segments: string[]): Promise<void> {
  const { info } = file;
  const name = segments.at(-1)!;
  const etag = `W/"${info.size.toString(36)}-${Math.trunc(info.mtimeMs).toString(36)}"`;
  const headers: Record<string, string> = {
    ...baseHeaders(),
    'content-type': CONTROL_UI_CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream',
    'cache-control': segments[0] === 'assets' && HASHED_ASSET.test(name) ? IMMUTABLE_CACHE : 'no-cache',
    'cross-origin-resource-policy': 'same-origin',
    etag,
    'last-modified': info.mtime.toUTCString(),
  };
  if (etagMatches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  let body = { path: file.path, size: info.size };
  for (const { coding, suffix } of PRECOMPRESSED) {
    if (!acceptsEncoding(req.headers['accept-encoding'], coding)) continue;
    // The sibling passes the same confinement as the file it stands for.
    const sibling = await confinedFile(root, [...segments.slice(0, -1), `${name}${suffix}`]);
    if (sibling === undefined) continue;
    body = { path: sibling.path, size: sibling.info.size };
    headers['content-encoding'] = coding;
    break;
  }
  headers.vary = 'accept-encoding';
  headers['content-length'] = String(body.size);
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(body.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
