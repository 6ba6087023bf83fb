/**
 * Confine a path the model gives to the workspace directory. A path is
 * refused when it leaves the workspace by `..`, by being absolute outside it,
 * or through a symbolic link (also a dangling one, which a write would follow),
 * and when it names one of the gateway's own files (token, config, sessions),
 * wherever the workspace is. The check resolves links with realpath, so the
 * caller works on the real path.
 */

import { lstat, mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

import { ToolInputError } from './agent-tool.js';

/** Longest path accepted from the model (chars). */
const MAX_PATH_CHARS = 4096;

/** A path inside the workspace, as the model named it and as it is on disk. */
export interface WorkspacePath {
  /** Real absolute path (symbolic links resolved as far as the path exists). */
  real: string;
  /** Path relative to the workspace root, for messages ("." for the root). */
  display: string;
}

/** A file or directory the tools never touch, optionally but for one subtree of it. */
export interface ProtectedArea {
  /** Absolute path of the file or directory. */
  path: string;
  /** Absolute path below `path` that stays usable (the default workspace inside the state directory). */
  except?: string;
}

/** The workspace directory tools work in; created on first use. */
export class Workspace {
  readonly root: string;
  readonly #protected: readonly ProtectedArea[];
  #realRoot: Promise<string> | undefined;
  #realProtected: Promise<ProtectedArea[]> | undefined;

  /**
   * @param root absolute path of the workspace directory
   * @param protectedAreas the gateway's own files, refused whatever the workspace is (default none)
   */
  constructor(root: string, protectedAreas: readonly ProtectedArea[] = []) {
    if (!isAbsolute(root)) throw new RangeError(`workspace directory must be an absolute path, got ${root}`);
    this.root = resolve(root);
    this.#protected = protectedAreas;
  }

  /** Real path of the root, creating the directory (mode 0700) when missing. */
  realRoot(): Promise<string> {
    this.#realRoot ??= mkdir(this.root, { recursive: true, mode: 0o700 })
      .then(() => realpath(this.root))
      .catch((error: unknown) => {
        this.#realRoot = undefined;
        throw error;
      });
    return this.#realRoot;
  }

  /** Resolve `input` (relative to the root, or absolute inside it). Throws ToolInputError when it escapes. */
  async resolve(input: string): Promise<WorkspacePath> {
    if (input.length > MAX_PATH_CHARS) throw new ToolInputError(`path too long: ${input.length} characters (limit ${MAX_PATH_CHARS})`);
    if (input.includes('\0')) throw new ToolInputError('path must not contain NUL characters');
    const realRoot = await this.realRoot();
    const given = input.trim() === '' ? '.' : input;
    const lexical = isAbsolute(given) ? resolve(given) : resolve(this.root, given);
    // An absolute path may name the workspace by its configured or its real path.
    const base = isInside(this.root, lexical) ? this.root : isInside(realRoot, lexical) ? realRoot : undefined;
    if (base === undefined) throw new ToolInputError(`path is outside the workspace: ${input}`);
    const real = await realpathExisting(join(realRoot, relative(base, lexical)));
    if (!isInside(realRoot, real)) throw new ToolInputError(`path leaves the workspace through a symbolic link: ${input}`);
    const display = relative(realRoot, real) || '.';
    for (const area of await this.#realProtectedAreas()) {
      if (isInside(area.path, real) && (area.except === undefined || !isInside(area.except, real))) {
        throw new ToolInputError(`${display} is one of the gateway's own files (token, config or sessions); the tools never touch it`);
      }
    }
    return { real, display };
  }

  /** Protected areas by real path, so a link to the state directory cannot dodge the check. */
  #realProtectedAreas(): Promise<ProtectedArea[]> {
    this.#realProtected ??= Promise.all(
      this.#protected.map(async (area) => ({
        path: await realpathOrSelf(area.path),
        ...(area.except === undefined ? {} : { except: await realpathOrSelf(area.except) }),
      })),
    );
    return this.#realProtected;
  }
}

/** realpath of an existing path (a missing one is its own real path; it may be created later). */
async function realpathOrSelf(path: string): Promise<string> {
  try {
    return await realpathExisting(resolve(path));
  } catch {
    return resolve(path);
  }
}

/** True when `path` is `root` or below it (both absolute and normalised). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * realpath of the longest existing prefix, plus the part that does not exist
 * yet. A dangling symbolic link on the way is refused: writing through it would
 * create its target wherever it points.
 */
async function realpathExisting(path: string): Promise<string> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      const real = await realpath(current);
      return missing.length === 0 ? real : join(real, ...missing.reverse());
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const stats = await lstat(current).catch(() => undefined);
    if (stats?.isSymbolicLink()) throw new ToolInputError(`path goes through a dangling symbolic link: ${basename(current)}`);
    const parent = dirname(current);
    if (parent === current) throw new ToolInputError(`path not found: ${path}`);
    missing.push(basename(current));
    current = parent;
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
