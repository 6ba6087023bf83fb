/**
 * Split a long reply into messages Telegram accepts: at paragraph breaks
 * first, then line breaks, then spaces, and only as a last resort mid-word.
 * A code fence cut in two is closed at the end of one part and reopened at
 * the start of the next, so each part renders on its own.
 */

/** Split `text` into parts of at most `limit` characters (code fences re-balanced). */
export function chunkText(text: string, limit: number): string[] {
  const trimmed = text.trim();
  if (trimmed.length <= limit) return trimmed === '' ? [] : [trimmed];
  // Room for a closing and a reopening fence.
  const budget = Math.max(1, limit - 16);
  const parts: string[] = [];
  let rest = trimmed;
  let reopen = '';
  while (rest.length > 0) {
    const candidate = reopen + rest;
    if (candidate.length <= limit) {
      parts.push(candidate);
      break;
    }
    const room = budget - reopen.length;
    const cut = findCut(rest, Math.max(1, room));
    let part = reopen + rest.slice(0, cut).trimEnd();
    rest = rest.slice(cut).replace(/^\s+/, '');
    const fence = openFence(part);
    if (fence !== undefined) {
      part += '\n```';
      reopen = `${fence}\n`;
    } else reopen = '';
    parts.push(part);
  }
  return parts;
}

/** Best place to end a part within the first `room` characters. */
function findCut(text: string, room: number): number {
  const window = text.slice(0, room + 1);
  for (const separator of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(separator);
    // A cut in the first third would leave a tiny part; prefer the next separator kind.
    if (at > room / 3) return at;
  }
  return room;
}

/** The opening fence line (```lang) left open at the end of `part`, if any. */
function openFence(part: string): string | undefined {
  let open: string | undefined;
  for (const line of part.split('\n')) {
    if (!/^```/.test(line)) continue;
    open = open === undefined ? line.trim() : undefined;
  }
  return open;
}
