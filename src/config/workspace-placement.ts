/**
 * Where an agent's workspace may be: never the state directory, never a
 * directory that contains it, and inside it only as its own subdirectory
 * (`workspace` for the main agent, the default, or `workspace-<agentId>` for
 * another agent). Anywhere else the file tools would hand the model the
 * gateway token, the config or the session files.
 */

import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { WORKSPACE_DIR_NAME } from './defaults.js';

/**
 * What is wrong with this workspace placement, or undefined when it is safe. Both paths absolute.
 * @param agentId an agent other than main, whose default `<stateDir>/workspace-<agentId>` is allowed too
 */
export function describeUnsafeWorkspace(workspaceDir: string, stateDir: string, agentId?: string): string | undefined {
  const workspace = realpathOfExisting(workspaceDir);
  const state = realpathOfExisting(stateDir);
  if (workspace === state) return `it is the state directory ${stateDir}`;
  if (isInside(workspace, state)) return `it contains the state directory ${stateDir}`;
  const allowed = [join(state, WORKSPACE_DIR_NAME), ...(agentId === undefined ? [] : [join(state, `${WORKSPACE_DIR_NAME}-${agentId}`)])];
  if (isInside(state, workspace) && !allowed.some((dir) => isInside(dir, workspace))) {
    const names = allowed.map((dir) => join(stateDir, relative(state, dir))).join(' or ');
    return `it is inside the state directory ${stateDir} (only ${names} may be)`;
  }
  return undefined;
}

/** How workspace `a` overlaps workspace `b` ("is the same directory as", "is inside", "contains"), or undefined. */
export function describeOverlap(a: string, b: string): string | undefined {
  const realA = realpathOfExisting(a);
  const realB = realpathOfExisting(b);
  if (realA === realB) return 'is the same directory as';
  if (isInside(realB, realA)) return 'is inside';
  if (isInside(realA, realB)) return 'contains';
  return undefined;
}

/** True when `path` is `root` or below it (both absolute and normalised). */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** realpath of the longest existing prefix plus the rest, so a symbolic link cannot hide an overlap. */
function realpathOfExisting(path: string): string {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(realpathSync(current), ...missing.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      missing.push(basename(current));
      current = parent;
    }
  }
}
