/**
 * Per-tab state in sessionStorage (the token and the open session), and taking
 * the token out of the address bar. Storage can be unavailable (privacy modes);
 * then the page just asks again.
 */

const TOKEN_ITEM = 'pincer.token';
const SESSION_ITEM = 'pincer.session';

/**
 * Read `#token=...` from the address and remove it at once with replaceState,
 * so it stays out of history, bookmarks and screenshots. Other fragment keys are kept.
 */
export function takeTokenFromUrl(): string | null {
  const hash = location.hash.slice(1);
  if (!hash) return null;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (token === null) return null;
  params.delete('token');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  const trimmed = token.trim();
  return trimmed === '' ? null : trimmed;
}

export function loadToken(): string | null {
  return readItem(TOKEN_ITEM);
}

export function saveToken(token: string | null): void {
  writeItem(TOKEN_ITEM, token);
}

export function loadSessionKey(): string | null {
  return readItem(SESSION_ITEM);
}

export function saveSessionKey(key: string): void {
  writeItem(SESSION_ITEM, key);
}

function readItem(name: string): string | null {
  try {
    return sessionStorage.getItem(name);
  } catch {
    return null;
  }
}

function writeItem(name: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(name);
    else sessionStorage.setItem(name, value);
  } catch {
    // Storage disabled: the token lives only in memory for this page load.
  }
}
