/**
 * The assistant's name and avatar, as OpenClaw resolves them: `agent.identity`
 * in the config first, then the workspace's IDENTITY.md (`- **Name:** …`,
 * `- **Emoji:** …`, `- **Avatar:** …` lines), else "Assistant" with its
 * initial as the avatar.
 */

import { open } from 'node:fs/promises';
import { join } from 'node:path';

/** The name used when neither the config nor the workspace names the assistant. */
export const DEFAULT_ASSISTANT_NAME = 'Assistant';
/** The workspace file that holds the assistant's identity (OpenClaw's name for it). */
export const IDENTITY_FILE_NAME = 'IDENTITY.md';
/** Bytes of IDENTITY.md read; the identity lines sit at its top. */
export const MAX_IDENTITY_FILE_BYTES = 16 * 1024;
/** Longest name or emoji kept, characters. */
const MAX_NAME_CHARS = 200;
/** Longest avatar kept (a data:image URL may be long), characters. */
const MAX_AVATAR_CHARS = 100_000;

export interface IdentityFields {
  name?: string;
  emoji?: string;
  avatar?: string;
}

export interface AssistantIdentity {
  name: string;
  /** Where the name came from. */
  nameSource: 'config' | 'workspace' | 'default';
  /** An http(s) or data:image URL, an emoji, or the name's initial. */
  avatar: string;
  emoji?: string;
}

export interface IdentitySource {
  /** `agent.identity` from the config. */
  configured?: IdentityFields;
  /** The directory whose IDENTITY.md is read. */
  workspaceDir?: string;
}

/** Resolve the identity now (the workspace file may change while the gateway runs). */
export async function resolveIdentity(source: IdentitySource): Promise<AssistantIdentity> {
  const configured = clean(source.configured ?? {});
  const fromFile = source.workspaceDir === undefined ? {} : clean(parseIdentityFile(await readIdentityFile(source.workspaceDir)));
  const name = configured.name ?? fromFile.name;
  const emoji = configured.emoji ?? fromFile.emoji;
  const identity: AssistantIdentity = {
    name: name ?? DEFAULT_ASSISTANT_NAME,
    nameSource: configured.name !== undefined ? 'config' : fromFile.name !== undefined ? 'workspace' : 'default',
    avatar: servableAvatar(configured.avatar) ?? servableAvatar(fromFile.avatar) ?? emoji ?? initialOf(name ?? DEFAULT_ASSISTANT_NAME),
  };
  if (emoji !== undefined) identity.emoji = emoji;
  return identity;
}

/** The identity fields of an IDENTITY.md text; template placeholders such as `_(pick one)_` count as unset. */
export function parseIdentityFile(text: string): IdentityFields {
  const fields: IdentityFields = {};
  for (const line of text.split('\n')) {
    const match = /^\s*[-*]?\s*\*\*(name|emoji|avatar):?\*\*:?\s*(.*)$/i.exec(line);
    if (match === null) continue;
    const key = match[1]!.toLowerCase() as keyof IdentityFields;
    const value = match[2]!.trim();
    if (value === '' || /^_?\(.*\)_?$/.test(value) || fields[key] !== undefined) continue;
    fields[key] = value;
  }
  return fields;
}

async function readIdentityFile(workspaceDir: string): Promise<string> {
  let handle;
  try {
    handle = await open(join(workspaceDir, IDENTITY_FILE_NAME), 'r');
  } catch {
    return '';
  }
  try {
    const buffer = Buffer.alloc(MAX_IDENTITY_FILE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } catch {
    return '';
  } finally {
    await handle.close();
  }
}

function clean(fields: IdentityFields): IdentityFields {
  const out: IdentityFields = {};
  for (const key of ['name', 'emoji', 'avatar'] as const) {
    const value = fields[key]?.trim();
    if (value !== undefined && value !== '') out[key] = value.slice(0, key === 'avatar' ? MAX_AVATAR_CHARS : MAX_NAME_CHARS);
  }
  return out;
}

/** Only an avatar a browser can show without Pincer serving files: a web or data:image URL. A workspace path is not one. */
function servableAvatar(avatar: string | undefined): string | undefined {
  if (avatar === undefined) return undefined;
  return /^(https?:\/\/|data:image\/)/i.test(avatar) ? avatar : undefined;
}

function initialOf(name: string): string {
  return Array.from(name)[0]?.toUpperCase() ?? 'A';
}
