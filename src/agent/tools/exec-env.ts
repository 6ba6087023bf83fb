/**
 * The environment an exec command gets: an allow-list, not a deny-list, so
 * credentials of any name (DATABASE_URL with its password, GH_PAT, webhook
 * URLs) stay with the gateway unless the operator names them.
 */

/** Passed to every command when the gateway has them. `LC_*` means every locale category. */
export const BASE_EXEC_ENV = ['PATH', 'HOME', 'LANG', 'LC_*', 'TERM', 'TZ', 'USER', 'SHELL', 'TMPDIR'] as const;

/**
 * The variables of `env` whose names match BASE_EXEC_ENV or `extraNames`
 * (`tools.exec.env`; a trailing `*` matches a prefix).
 */
export function buildExecEnv(env: NodeJS.ProcessEnv, extraNames: readonly string[] = []): NodeJS.ProcessEnv {
  const patterns = [...BASE_EXEC_ENV, ...extraNames];
  const exact = new Set(patterns.filter((name) => !name.endsWith('*')));
  const prefixes = patterns.filter((name) => name.endsWith('*')).map((name) => name.slice(0, -1));
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (exact.has(name) || prefixes.some((prefix) => name.startsWith(prefix))) out[name] = value;
  }
  return out;
}
