/**
 * An agent's workspace files that clients may read and write by name
 * (OpenClaw's agents.files.*): the bootstrap files AGENTS.md, SOUL.md, … and
 * MEMORY.md. Only those names are accepted, so no path can be given at all;
 * and the file must still be a plain file of the workspace: a symbolic link
 * (wherever it points), a file with a second hard link, a directory or a
 * FIFO in its place is refused, the same rules as the file tools. Writes
 * replace the file by rename, so they are atomic and never write through a link.
 */

import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';

import { GatewayError } from '../protocol/errors.js';
import { writeFileAtomic } from '../sessions/atomic-write.js';
import { ToolInputError } from './tools/agent-tool.js';
import type { Workspace } from './tools/workspace-path.js';

/** The files agents.files.* accept, in listing order (OpenClaw's bootstrap and memory files). */
export const AGENT_FILE_NAMES = ['AGENTS.md', 'SOUL.md', 'TOOLS.md', 'IDENTITY.md', 'USER.md', 'HEARTBEAT.md', 'BOOTSTRAP.md', 'MEMORY.md', 'memory.md'] as const;
/** Largest agent file read or written, bytes. */
export const MAX_AGENT_FILE_BYTES = 1024 * 1024;
/** Mode of a file created by agents.files.set (before umask); a replaced file keeps 0644 too. */
const AGENT_FILE_MODE = 0o644;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** One listed file, as OpenClaw shapes it. */
export interface AgentFileEntry {
  name: string;
  /** Absolute path, shown to the operator. */
  path: string;
  missing: boolean;
  size?: number;
  updatedAtMs?: number;
  /** SHA-256 hex of the bytes on disk (get and set). */
  hash?: string;
  content?: string;
}

/** Every listed name with its state; a name whose file is unsafe is shown as missing. */
export async function listAgentFiles(workspace: Workspace): Promise<AgentFileEntry[]> {
  const files: AgentFileEntry[] = [];
  for (const name of AGENT_FILE_NAMES) {
    // memory.md is OpenClaw's older spelling: listed only when it is the one that exists.
    if (name === 'memory.md' && files.some((file) => file.name === 'MEMORY.md' && !file.missing)) continue;
    const entry = await statAgentFile(workspace, name).catch(() => ({ name, path: join(workspace.root, name), missing: true }));
    if (name === 'memory.md' && entry.missing) continue;
    files.push(entry);
  }
  return files;
}

/** Read one file; a missing one gives `missing: true`. Throws GatewayError INVALID_REQUEST for a bad name or an unsafe file. */
export async function readAgentFile(workspace: Workspace, name: string): Promise<AgentFileEntry> {
  const target = await resolveAgentFile(workspace, name);
  const stats = await checkPlainFile(target, name);
  if (stats === undefined) return { name, path: join(workspace.root, name), missing: true };
  if (stats.size > MAX_AGENT_FILE_BYTES) throw unsafe(name, `larger than ${MAX_AGENT_FILE_BYTES} bytes`);
  const handle = await open(target, READ_FLAGS).catch((error: unknown) => {
    throw unsafe(name, errnoCode(error) === 'ELOOP' ? 'it is a symbolic link' : 'it cannot be opened');
  });
  try {
    const opened = await handle.stat();
    // The name may have been swapped for a link between the check and the open: the open saw what it saw.
    if (!opened.isFile() || opened.nlink > 1 || opened.ino !== stats.ino) throw unsafe(name, 'it changed while being read');
    const bytes = await handle.readFile();
    return { name, path: join(workspace.root, name), missing: false, size: bytes.length, updatedAtMs: Math.floor(opened.mtimeMs), hash: sha256(bytes), content: bytes.toString('utf8') };
  } finally {
    await handle.close();
  }
}

/**
 * Replace one file with `content` (atomic rename). With `expectedHash`, the
 * write happens only when the file on disk still has that hash (OpenClaw's
 * `agent_file_conflict` otherwise, with the current hash).
 */
export async function writeAgentFile(workspace: Workspace, name: string, content: string, expectedHash?: string): Promise<AgentFileEntry> {
  const bytes = Buffer.from(content, 'utf8');
  if (bytes.length > MAX_AGENT_FILE_BYTES) throw new GatewayError('INVALID_REQUEST', `content of ${name} is ${bytes.length} bytes (limit ${MAX_AGENT_FILE_BYTES})`);
  const target = await resolveAgentFile(workspace, name);
  await checkPlainFile(target, name);
  if (expectedHash !== undefined) {
    const current = await readAgentFile(workspace, name);
    const currentHash = current.hash ?? null;
    if (currentHash !== expectedHash) {
      throw new GatewayError('INVALID_REQUEST', `${name} changed since it was read; read it again and retry`, {
        details: { type: 'agent_file_conflict', currentHash },
      });
    }
  }
  await writeFileAtomic(target, bytes, AGENT_FILE_MODE);
  const written = await lstat(target);
  return { name, path: join(workspace.root, name), missing: false, size: written.size, updatedAtMs: Math.floor(written.mtimeMs), hash: sha256(bytes), content };
}

/** The real path of an allowed name in the workspace (created when missing). */
async function resolveAgentFile(workspace: Workspace, name: string): Promise<string> {
  if (!(AGENT_FILE_NAMES as readonly string[]).includes(name)) {
    throw new GatewayError('INVALID_REQUEST', `unsupported file "${name}": expected one of ${AGENT_FILE_NAMES.join(', ')}`);
  }
  const root = await workspace.realRoot();
  try {
    // Also refuses the gateway's own files, should a workspace ever hold them.
    await workspace.resolve(name);
  } catch (error) {
    if (error instanceof ToolInputError) throw unsafe(name, error.message);
    throw error;
  }
  return join(root, name);
}

/** The file's lstat when it is a plain, singly linked file; undefined when missing. */
async function checkPlainFile(path: string, name: string) {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  if (stats.isSymbolicLink()) throw unsafe(name, 'it is a symbolic link');
  if (!stats.isFile()) throw unsafe(name, 'it is not a regular file');
  if (stats.nlink > 1) throw unsafe(name, 'it has another hard link, which may be outside the workspace');
  return stats;
}

async function statAgentFile(workspace: Workspace, name: string): Promise<AgentFileEntry> {
  const target = await resolveAgentFile(workspace, name);
  const stats = await checkPlainFile(target, name);
  const path = join(workspace.root, name);
  if (stats === undefined) return { name, path, missing: true };
  return { name, path, missing: false, size: stats.size, updatedAtMs: Math.floor(stats.mtimeMs) };
}

function unsafe(name: string, reason: string): GatewayError {
  return new GatewayError('INVALID_REQUEST', `unsafe workspace file "${name}" (${reason})`);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
