/**
 * Operator scopes (docs/protocol.md §2.5). The server grants the intersection of
 * the requested scopes with the supported set; checks use the implication
 * admin ⊇ write ⊇ read (Pincer rule).
 */

export const SCOPE_READ = 'operator.read';
export const SCOPE_WRITE = 'operator.write';
export const SCOPE_ADMIN = 'operator.admin';

export type OperatorScope = typeof SCOPE_READ | typeof SCOPE_WRITE | typeof SCOPE_ADMIN;

/** Supported scopes in reporting order. */
export const OPERATOR_SCOPES: readonly OperatorScope[] = [SCOPE_ADMIN, SCOPE_READ, SCOPE_WRITE];

const IMPLIED: Record<OperatorScope, readonly OperatorScope[]> = {
  [SCOPE_ADMIN]: [SCOPE_ADMIN, SCOPE_WRITE, SCOPE_READ],
  [SCOPE_WRITE]: [SCOPE_WRITE, SCOPE_READ],
  [SCOPE_READ]: [SCOPE_READ],
};

export function isOperatorScope(value: string): value is OperatorScope {
  return value === SCOPE_READ || value === SCOPE_WRITE || value === SCOPE_ADMIN;
}

/** requested ∩ supported, de-duplicated, in the order the client sent them. */
export function grantScopes(requested: readonly string[] | undefined): OperatorScope[] {
  const granted: OperatorScope[] = [];
  for (const scope of requested ?? []) {
    if (isOperatorScope(scope) && !granted.includes(scope)) granted.push(scope);
  }
  return granted;
}

/** The granted scopes plus everything they imply; what method checks look at. */
export function expandScopes(granted: readonly OperatorScope[]): Set<OperatorScope> {
  const out = new Set<OperatorScope>();
  for (const scope of granted) for (const implied of IMPLIED[scope]) out.add(implied);
  return out;
}

/** One read-only set per combination of scopes (a few dozen at most), shared by every connection granted it. */
const sharedSets = new Map<string, ReadonlySet<OperatorScope>>();

/** expandScopes, shared: a connection keeps no set of its own. */
export function sharedExpandedScopes(granted: readonly OperatorScope[]): ReadonlySet<OperatorScope> {
  const key = [...granted].sort().join(' ');
  let set = sharedSets.get(key);
  if (set === undefined) {
    set = expandScopes(granted);
    sharedSets.set(key, set);
  }
  return set;
}
