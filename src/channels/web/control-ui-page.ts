/**
 * The Control UI's index.html as the gateway hands it out: asset URLs made
 * absolute under the base path (so deep links load the same assets), the base
 * path stamped on <html> where the app reads it, and a CSP that allows the
 * page's own inline scripts by hash and nothing else inline.
 */

import { createHash } from 'node:crypto';
import { socketSources } from './static-http.js';

/** The attribute the Control UI reads its mount prefix from. */
export const BASE_PATH_ATTRIBUTE = 'data-openclaw-control-ui-base-path';

const INLINE_SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi;
const RELATIVE_ASSET_ATTRIBUTE = /(\s(?:src|href)=)(["'])\.\//gi;

export interface PreparedPage {
  html: string;
  /** `'sha256-…'` sources of the inline scripts, for script-src. */
  scriptHashes: string[];
}

/** Rewrite `./x` asset references to `<basePath>/x` and stamp the base path; basePath is URL-safe (config checks it). */
export function prepareControlUiPage(html: string, basePath: string): PreparedPage {
  const rewritten = html
    .replace(RELATIVE_ASSET_ATTRIBUTE, (_match, attribute: string, quote: string) => `${attribute}${quote}${basePath}/`)
    .replace(/<html\b/i, `<html ${BASE_PATH_ATTRIBUTE}="${basePath}"`);
  const scriptHashes: string[] = [];
  for (const match of rewritten.matchAll(INLINE_SCRIPT)) {
    const attributes = match[1] ?? '';
    const body = match[2] ?? '';
    if (/\ssrc\s*=/i.test(attributes) || body.length === 0) continue;
    scriptHashes.push(`'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
  }
  return { html: rewritten, scriptHashes };
}

/**
 * The Control UI page's CSP: scripts from this origin plus the page's own
 * inline ones by hash; inline styles (Lit sets them at run time); images and
 * media also from data: and blob: URLs the app creates; sockets to this host.
 */
export function controlUiCsp(scriptHashes: readonly string[], host: string | undefined): string[] {
  return [
    "default-src 'self'",
    `script-src 'self'${scriptHashes.map((hash) => ` ${hash}`).join('')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' data: blob:",
    "font-src 'self' data:",
    // The app fetches its own data: and blob: URLs (icons, attachments).
    `connect-src 'self'${socketSources(host)} data: blob:`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ];
}
