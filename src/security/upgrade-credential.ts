/**
 * Credentials presented at the HTTP upgrade, for token-only clients and
 * reverse proxies (the connection must still complete `connect`):
 *
 * - `Authorization: Bearer <secret>`
 * - a `Sec-WebSocket-Protocol` entry `openclaw.token.<secret>`; the server
 *   never echoes that entry back, it selects the first other offered entry
 *   (offer e.g. `openclaw` alongside it) or none.
 *
 * The query string is never read (docs/protocol.md §8.2).
 */

export const TOKEN_SUBPROTOCOL_PREFIX = 'openclaw.token.';
const MAX_UPGRADE_SECRET_CHARS = 4096;

/** The secret carried by the upgrade request, if any. */
export function readUpgradeCredential(
  authorization: string | undefined,
  protocols: ReadonlySet<string> | readonly string[],
): string | undefined {
  if (authorization !== undefined) {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (match && match[1]!.length <= MAX_UPGRADE_SECRET_CHARS) return match[1];
  }
  for (const entry of protocols) {
    if (entry.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) {
      const secret = entry.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
      if (secret.length > 0 && secret.length <= MAX_UPGRADE_SECRET_CHARS) return secret;
    }
  }
  return undefined;
}

/** The subprotocol to answer with: the first offered entry that is not a credential. */
export function selectSubprotocol(protocols: ReadonlySet<string>): string | false {
  for (const entry of protocols) if (!entry.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return entry;
  return false;
}
