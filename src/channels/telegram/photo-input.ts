/**
 * A photo message → image input for the model: the largest size within the
 * cap, fetched through getFile and the file URL, and read with the cap
 * enforced on the bytes received (a server's size claims are not trusted).
 */

import type { BotClient } from './bot-client.js';
import { httpFetch } from './http-fetch.js';

/** Waiting for one download, ms. */
export const DOWNLOAD_TIMEOUT_MS = 60_000;

export interface PhotoSize {
  file_id: string;
  width: number;
  height: number;
  file_size?: number;
}

export class PhotoTooLargeError extends Error {
  constructor(limitBytes: number) {
    super(`the photo is larger than ${(limitBytes / 1024 / 1024).toFixed(1)} MB (channels.telegram.mediaMaxMb)`);
    this.name = 'PhotoTooLargeError';
  }
}

/** Download the best photo size within `maxBytes`; returns base64 JPEG data. */
export async function downloadPhoto(client: BotClient, sizes: readonly PhotoSize[], maxBytes: number, signal?: AbortSignal): Promise<{ mediaType: string; data: string }> {
  const fitting = [...sizes].sort((a, b) => b.width * b.height - a.width * a.height).find((size) => size.file_size === undefined || size.file_size <= maxBytes);
  if (fitting === undefined) throw new PhotoTooLargeError(maxBytes);
  const file = await client.call<{ file_path?: string; file_size?: number }>('getFile', { file_id: fitting.file_id }, { signal });
  if (file.file_path === undefined) throw new Error('Telegram gave no file path for the photo');
  if (file.file_size !== undefined && file.file_size > maxBytes) throw new PhotoTooLargeError(maxBytes);
  const timeout = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
  const response = await httpFetch(client.fileUrl(file.file_path), { signal: signal ?? timeout });
  if (!response.ok) {
    response.body.resume();
    throw new Error(`photo download failed: HTTP ${response.status}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      response.body.destroy();
      throw new PhotoTooLargeError(maxBytes);
    }
    chunks.push(chunk);
  }
  return { mediaType: mediaTypeOf(file.file_path), data: Buffer.concat(chunks).toString('base64') };
}

function mediaTypeOf(path: string): string {
  if (/\.png$/i.test(path)) return 'image/png';
  if (/\.webp$/i.test(path)) return 'image/webp';
  return 'image/jpeg';
}
