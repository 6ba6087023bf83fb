/**
 * Where the agent's workspace may be: never the state directory, never a
 * directory that contains it, and inside it only as its own `workspace`
 * subdirectory (the default). Anywhere else the file tools would hand the
 * model the gateway token, the config or the session files.
 */

import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { WORKSPACE_DIR_NAME } from './defaults.js';

/** What is wrong with this workspace placement, or undefined when it is safe. Both paths absolute. */
export function describeUnsafeWorkspace(workspaceDir: string, stateDir: string): string | undefined {
  const workspace = realpathOfExisting(workspaceDir);
  const state = realpathOfExisting(stateDir);
  if (workspace === state) return `it is the state directory ${stateDir}`;
  if (isInside(workspace, state)) return `it contains the state directory ${stateDir}`;
  if (isInside(state, workspace) && !isInside(join(state, WORKSPACE_DIR_NAME), workspace)) {
    return `it is inside the state directory ${stateDir} (only ${join(stateDir, WORKSPACE_DIR_NAME)} may be)`;
  }
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
