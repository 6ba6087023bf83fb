/**
 * The generated gateway token: `<stateDir>/token`, mode 0600 in a 0700
 * directory, 256 random bits as base64url. Writes go through a temporary file
 * so a reader never sees a half-written token.
 */

import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';
import { TOKEN_FILE_NAME } from './defaults.js';

/** 32 bytes = 256 bits, well over the 128-bit floor. */
export const TOKEN_BYTES = 32;
export const STATE_DIR_MODE = 0o700;
export const TOKEN_FILE_MODE = 0o600;
/** Permission bits that must not be set for group or others. */
const GROUP_OTHER_BITS = 0o077;

export interface TokenFile {
  path: string;
  token: string;
  /** True when this call generated the token (first run). */
  created: boolean;
  /** Permission fixes applied, worth a log line. */
  warnings: string[];
}

/** A fresh random token (base64url, no padding). */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Path of the token file in a state directory. */
export function tokenFilePath(stateDir: string): string {
  return join(stateDir, TOKEN_FILE_NAME);
}

/** Create the state directory (0700) if needed, and tighten it if group or others can reach it. */
export async function ensureStateDir(stateDir: string): Promise<string[]> {
  try {
    await mkdir(stateDir, { recursive: true, mode: STATE_DIR_MODE });
  } catch (error) {
    throw new ConfigError(`cannot create state directory ${stateDir}: ${describeFsError(error)}`, { field: 'stateDir', cause: error });
  }
  const info = await stat(stateDir);
  if (!info.isDirectory()) throw new ConfigError(`state directory ${stateDir} is not a directory`, { field: 'stateDir' });
  if ((info.mode & GROUP_OTHER_BITS) !== 0) {
    await chmod(stateDir, STATE_DIR_MODE);
    return [`state directory ${stateDir} was accessible to other users; changed its mode to 0700`];
  }
  return [];
}

/** Read the token file, or create it with a new token when it does not exist. */
export async function ensureTokenFile(stateDir: string): Promise<TokenFile> {
  const warnings = await ensureStateDir(stateDir);
  const path = tokenFilePath(stateDir);
  const existing = await readTokenFile(path, warnings);
  if (existing !== undefined) return { path, token: existing, created: false, warnings };

  const token = generateToken();
  const temp = await writeTempFile(stateDir, token);
  try {
    // link() fails if the file exists, so two gateways starting at once agree on one token.
    await link(temp, path);
  } catch (error) {
    if (!isCode(error, 'EEXIST')) throw error;
    const raced = await readTokenFile(path, warnings);
    if (raced === undefined) throw new ConfigError(`token file ${path} vanished while starting`);
    return { path, token: raced, created: false, warnings };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return { path, token, created: true, warnings };
}

/** Replace the token with a new one (atomic rename). Running gateways use it from their next connect. */
export async function rotateTokenFile(stateDir: string): Promise<TokenFile> {
  const warnings = await ensureStateDir(stateDir);
  const path = tokenFilePath(stateDir);
  const token = generateToken();
  const temp = await writeTempFile(stateDir, token);
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return { path, token, created: true, warnings };
}

/** The trimmed token, or undefined when the file is missing. Throws ConfigError when it is blank or unreadable. Tightens a too-open mode. */
async function readTokenFile(path: string, warnings: string[]): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw new ConfigError(`cannot read token file ${path}: ${describeFsError(error)}`, { cause: error });
  }
  const info = await stat(path);
  if ((info.mode & GROUP_OTHER_BITS) !== 0) {
    await chmod(path, TOKEN_FILE_MODE);
    warnings.push(`token file ${path} was readable by other users; changed its mode to 0600`);
  }
  const token = text.trim();
  if (token === '') throw new ConfigError(`token file ${path} is empty; delete it to generate a new token`);
  return token;
}

async function writeTempFile(dir: string, token: string): Promise<string> {
  const temp = join(dir, `.${TOKEN_FILE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', TOKEN_FILE_MODE);
  try {
    await handle.writeFile(`${token}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  // The umask can only remove bits, but be explicit about the final mode.
  await chmod(temp, TOKEN_FILE_MODE);
  return temp;
}

function describeFsError(error: unknown): string {
  if (isCode(error, 'EACCES') || isCode(error, 'EPERM')) return 'permission denied';
  if (isCode(error, 'ENOTDIR')) return 'a parent is not a directory';
  if (isCode(error, 'EROFS')) return 'read-only file system';
  return error instanceof Error ? error.message : String(error);
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
