/**
 * The workspace file tools: read_file, write_file, edit_file and list_dir.
 * Every path goes through Workspace.resolve, so none of them reaches outside
 * the workspace directory. A file with more than one hard link is refused
 * (the other name may be outside the workspace), and writes replace the file
 * by rename, so they never write through a link.
 */

import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as v from 'valibot';

import { writeFileAtomic } from '../../sessions/atomic-write.js';

import { argumentsSchema, parseArguments, textOutcome, ToolInputError } from './agent-tool.js';
import type { AgentTool } from './agent-tool.js';
import type { Workspace } from './workspace-path.js';

/** Largest file read_file and edit_file load (bytes). */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Text read_file returns per call; the rest is reached with `offset` (chars). */
export const READ_FILE_MAX_CHARS = 100_000;
/** Largest content write_file and edit_file write (bytes). */
export const MAX_WRITE_BYTES = 10 * 1024 * 1024;
/** Entries list_dir shows at most. */
export const LIST_DIR_MAX_ENTRIES = 1_000;
/** Bytes inspected for NUL to tell a binary file from text. */
const BINARY_SNIFF_BYTES = 8_192;

/** Mode for files the tools create (before umask); a replaced file keeps its own. */
const NEW_FILE_MODE = 0o644;
/**
 * Never through a symbolic link swapped in after the path check, and never
 * blocking on a FIFO (open would wait for the other end forever).
 */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

const pathArg = v.pipe(v.string('expected a path string'), v.minLength(1, 'must not be empty'));
const lineNumber = v.pipe(v.number('expected a line number'), v.integer('expected an integer'), v.minValue(1, 'must be at least 1'));

const readSchema = argumentsSchema({ path: pathArg, offset: v.optional(lineNumber), limit: v.optional(lineNumber) });
const writeSchema = argumentsSchema({ path: pathArg, content: v.string('expected the file content as a string') });
const editSchema = argumentsSchema({
  path: pathArg,
  old_text: v.pipe(v.string('expected a string'), v.minLength(1, 'must not be empty')),
  new_text: v.string('expected a string'),
  replace_all: v.optional(v.boolean('expected true or false')),
});
const listSchema = argumentsSchema({ path: v.optional(v.string('expected a path string')) });

/** The four file tools on one workspace. */
export function createFileTools(workspace: Workspace): { readFile: AgentTool; writeFile: AgentTool; editFile: AgentTool; listDir: AgentTool } {
  return {
    readFile: {
      spec: {
        name: 'read_file',
        description:
          'Read a UTF-8 text file in the workspace. Paths are relative to the workspace. Long files come in parts: ' +
          'pass offset (first line, 1-based) and limit (lines) to read further.',
        parameters: {
          type: 'object',
          properties: {
            path: { type: 'string', description: 'File path relative to the workspace' },
            offset: { type: 'integer', minimum: 1, description: 'First line to read (1-based, default 1)' },
            limit: { type: 'integer', minimum: 1, description: 'Lines to read at most' },
          },
          required: ['path'],
          additionalProperties: false,
        },
      },
      execute: async (args) => {
        const { path, offset, limit } = parseArguments(readSchema, args);
        const target = await workspace.resolve(path);
        const text = await readText(target.real, target.display);
        return textOutcome(sliceLines(text, offset ?? 1, limit, target.display));
      },
    },
    writeFile: {
      spec: {
        name: 'write_file',
        description: 'Create or overwrite a text file in the workspace with the given content. Missing parent directories are created.',
        parameters: {
          type: 'object',
          properties: {
            path: { type: 'string', description: 'File path relative to the workspace' },
            content: { type: 'string', description: 'The complete new content' },
          },
          required: ['path', 'content'],
          additionalProperties: false,
        },
      },
      execute: async (args) => {
        const { path, content } = parseArguments(writeSchema, args);
        const target = await workspace.resolve(path);
        const bytes = await writeText(target.real, target.display, content);
        return textOutcome(`wrote ${bytes} bytes to ${target.display}`);
      },
    },
    editFile: {
      spec: {
        name: 'edit_file',
        description:
          'Replace exact text in a workspace file. old_text must occur exactly once unless replace_all is true; ' +
          'include enough surrounding text to make it unique.',
        parameters: {
          type: 'object',
          properties: {
            path: { type: 'string', description: 'File path relative to the workspace' },
            old_text: { type: 'string', description: 'Exact text to replace' },
            new_text: { type: 'string', description: 'Replacement text' },
            replace_all: { type: 'boolean', description: 'Replace every occurrence (default false)' },
          },
          required: ['path', 'old_text', 'new_text'],
          additionalProperties: false,
        },
      },
      execute: async (args) => {
        const { path, old_text: oldText, new_text: newText, replace_all: replaceAll } = parseArguments(editSchema, args);
        const target = await workspace.resolve(path);
        const text = await readText(target.real, target.display);
        const count = countOccurrences(text, oldText);
        if (count === 0) throw new ToolInputError(`old_text not found in ${target.display}`);
        if (count > 1 && replaceAll !== true) {
          throw new ToolInputError(`old_text occurs ${count} times in ${target.display}: add surrounding text to make it unique, or set replace_all`);
        }
        // split/join, not String.replace: `$&` and friends in new_text must stay literal.
        await writeText(target.real, target.display, text.split(oldText).join(newText));
        return textOutcome(`replaced ${count} occurrence${count === 1 ? '' : 's'} in ${target.display}`);
      },
    },
    listDir: {
      spec: {
        name: 'list_dir',
        description: 'List a directory of the workspace (default: the workspace root). Directories end with "/".',
        parameters: {
          type: 'object',
          properties: { path: { type: 'string', description: 'Directory relative to the workspace (default ".")' } },
          additionalProperties: false,
        },
      },
      execute: async (args) => {
        const { path } = parseArguments(listSchema, args);
        const target = await workspace.resolve(path ?? '.');
        return textOutcome(await listDirectory(target.real, target.display));
      },
    },
  };
}

async function readText(real: string, display: string): Promise<string> {
  const handle = await open(real, READ_FLAGS).catch((error: unknown) => fsFailure(error, display));
  let data: Buffer;
  try {
    // The checks look at the opened file, so nothing can be swapped in between check and read.
    const info = await handle.stat();
    if (info.isDirectory()) throw new ToolInputError(`${display} is a directory; use list_dir`);
    if (!info.isFile()) throw new ToolInputError(`${display} is not a regular file`);
    if (info.nlink > 1) throw hardLinkError(display, info.nlink);
    if (info.size > MAX_FILE_BYTES) throw new ToolInputError(`${display} is too large: ${info.size} bytes (limit ${MAX_FILE_BYTES})`);
    data = await handle.readFile();
  } finally {
    await handle.close();
  }
  if (data.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
    throw new ToolInputError(`${display} looks like a binary file (${data.length} bytes); read_file reads text only`);
  }
  return data.toString('utf8');
}

async function writeText(real: string, display: string, content: string): Promise<number> {
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > MAX_WRITE_BYTES) throw new ToolInputError(`content too large: ${bytes} bytes (limit ${MAX_WRITE_BYTES})`);
  await mkdir(dirname(real), { recursive: true }).catch((error: unknown) => fsFailure(error, display));
  const existing = await lstat(real).catch((error: unknown) => (isNotFound(error) ? undefined : fsFailure(error, display)));
  if (existing !== undefined) {
    if (existing.isDirectory()) throw new ToolInputError(`${display} is a directory`);
    if (!existing.isFile()) throw new ToolInputError(`${display} is not a regular file`);
    if (existing.nlink > 1) throw hardLinkError(display, existing.nlink);
  }
  // A new file by rename: whatever is linked at `real` now is replaced, never written through.
  await writeFileAtomic(real, content, existing === undefined ? NEW_FILE_MODE : existing.mode & 0o777).catch((error: unknown) =>
    fsFailure(error, display),
  );
  return bytes;
}

/** A second name for the file may be outside the workspace (or be the gateway's own file). */
function hardLinkError(display: string, links: number): ToolInputError {
  return new ToolInputError(`${display} has ${links} hard links; the file tools refuse files with more than one, since another name may be outside the workspace`);
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Lines offset..offset+limit-1, cut at READ_FILE_MAX_CHARS, with a note saying how to read on. */
function sliceLines(text: string, offset: number, limit: number | undefined, display: string): string {
  if (text === '') return `(${display} is empty)`;
  const lines = text.split('\n');
  const endsWithNewline = lines[lines.length - 1] === '';
  if (endsWithNewline) lines.pop();
  if (offset > lines.length) throw new ToolInputError(`offset ${offset} is past the end of ${display} (${lines.length} lines)`);
  const last = limit === undefined ? lines.length : Math.min(lines.length, offset - 1 + limit);
  let out = '';
  let line = offset;
  for (; line <= last; line++) {
    const newline = line < lines.length || endsWithNewline ? '\n' : '';
    const next = `${lines[line - 1] ?? ''}${newline}`;
    if (out.length + next.length > READ_FILE_MAX_CHARS && out !== '') break;
    out += next.length > READ_FILE_MAX_CHARS ? `${next.slice(0, READ_FILE_MAX_CHARS)}…\n` : next;
  }
  const shownTo = line - 1;
  if (shownTo < lines.length) out += `\n[lines ${offset}-${shownTo} of ${lines.length}; call read_file with offset=${shownTo + 1} to read more]`;
  return out;
}

async function listDirectory(real: string, display: string): Promise<string> {
  const entries = await readdir(real, { withFileTypes: true }).catch((error: unknown) => fsFailure(error, display));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (entries.length === 0) return `(${display} is empty)`;
  const lines: string[] = [];
  for (const entry of entries.slice(0, LIST_DIR_MAX_ENTRIES)) {
    if (entry.isDirectory()) lines.push(`${entry.name}/`);
    else if (entry.isSymbolicLink()) lines.push(`${entry.name}@`);
    else if (entry.isFile()) {
      const size = await stat(join(real, entry.name)).then((s) => s.size, () => undefined);
      lines.push(size === undefined ? entry.name : `${entry.name} (${size} bytes)`);
    } else lines.push(entry.name);
  }
  if (entries.length > LIST_DIR_MAX_ENTRIES) lines.push(`[${entries.length - LIST_DIR_MAX_ENTRIES} more entries not shown]`);
  return lines.join('\n');
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

/** Turn a filesystem error into a message about the model's path, without the absolute path. */
function fsFailure(error: unknown, display: string): never {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    ENOENT: 'not found',
    ENOTDIR: 'a parent is not a directory',
    EISDIR: 'is a directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ELOOP: 'is a symbolic link',
    ENOTEMPTY: 'directory not empty',
    ENOSPC: 'no space left on the disk',
    // A FIFO without a reader, opened for writing without blocking.
    ENXIO: 'is not a regular file',
  };
  const reason = code === undefined ? undefined : reasons[code];
  if (reason !== undefined) throw new ToolInputError(`${display}: ${reason}`);
  throw error;
}
