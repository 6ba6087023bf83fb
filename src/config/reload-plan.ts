/**
 * Which config changes the running gateway takes at once and which need a
 * restart. Kept deliberately short: a key is "hot" only when every part that
 * reads it picks up the new value; everything else is "restart", and the
 * answer to a write says so.
 */

/** OpenClaw's reload kinds (config.schema.lookup `reloadKind`). */
export type ReloadKind = 'hot' | 'restart' | 'none';

/** Keys applied to the running gateway by a write (the logger's level, the price book, the agents). */
export const HOT_CONFIG_PATHS: readonly string[] = ['logLevel', 'provider.cost', 'agents'];

/** How a change at `path` (dotted) is applied. */
export function reloadKindOf(path: string): ReloadKind {
  return HOT_CONFIG_PATHS.some((hot) => path === hot || path.startsWith(`${hot}.`)) ? 'hot' : 'restart';
}

/** What a write's changes mean for the running gateway. */
export interface ReloadPlan {
  changedPaths: string[];
  /** Applied to the running gateway. */
  hotPaths: string[];
  /** Written, but in force only after a restart. */
  restartPaths: string[];
  restartRequired: boolean;
}

/** Split changed paths into the ones applied live and the ones that wait for a restart. */
export function planReload(changedPaths: readonly string[]): ReloadPlan {
  const hotPaths = changedPaths.filter((path) => reloadKindOf(path) === 'hot');
  const restartPaths = changedPaths.filter((path) => reloadKindOf(path) === 'restart');
  return { changedPaths: [...changedPaths], hotPaths, restartPaths, restartRequired: restartPaths.length > 0 };
}
