/**
 * A small code highlighter, loaded by the page only when a reply holds a
 * fenced code block with a language. It marks comments, strings, numbers and
 * keywords as <span class="tok-…"> text nodes; it never parses HTML, so model
 * output still cannot create markup.
 */

type TokenKind = 'comment' | 'string' | 'number' | 'keyword';

interface Rule {
  kind: TokenKind;
  pattern: RegExp;
}

const C_LIKE_KEYWORDS =
  'async await break case catch class const continue default delete do else enum export extends false finally for from function if implements import in instanceof interface let new null package private protected public return static super switch this throw true try type typeof undefined var void while with yield';
const KEYWORDS: Record<string, string> = {
  js: C_LIKE_KEYWORDS,
  ts: `${C_LIKE_KEYWORDS} as declare keyof namespace readonly`,
  java: `${C_LIKE_KEYWORDS} boolean byte char double final float int long short synchronized void`,
  c: 'auto break case char const continue default do double else enum extern float for goto if int long register return short signed sizeof static struct switch typedef union unsigned void volatile while NULL true false',
  go: 'break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var nil true false',
  rust: 'as async await break const continue crate else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while',
  py: 'and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield',
  sh: 'if then else elif fi for while until do done case esac function in return export local readonly echo exit',
  sql: 'select from where insert into values update set delete create table drop alter join left right inner outer on group by order having limit and or not null as distinct union',
  json: 'true false null',
};
const ALIASES: Record<string, string> = {
  javascript: 'js', jsx: 'js', mjs: 'js', cjs: 'js', typescript: 'ts', tsx: 'ts',
  python: 'py', bash: 'sh', shell: 'sh', zsh: 'sh', console: 'sh',
  cpp: 'c', 'c++': 'c', h: 'c', cs: 'java', csharp: 'java', kotlin: 'java', swift: 'java',
  golang: 'go', rs: 'rust', postgres: 'sql', mysql: 'sql', sqlite: 'sql', jsonc: 'json',
};
const HASH_COMMENT = new Set(['py', 'sh']);
const SQL_COMMENT = new Set(['sql']);

/** The language family of a fence's info string, or undefined when it is not one this highlighter knows. */
export function languageOf(lang: string): string | undefined {
  const name = lang.toLowerCase();
  const family = ALIASES[name] ?? name;
  return family in KEYWORDS ? family : undefined;
}

/** Replace the text of `code` with highlighted spans. Idempotent; leaves unknown languages alone. */
export function highlightCode(code: HTMLElement, lang: string): void {
  const family = languageOf(lang);
  if (family === undefined || code.dataset['highlighted'] === 'true') return;
  const text = code.textContent ?? '';
  const fragment = document.createDocumentFragment();
  for (const piece of tokenize(text, rulesFor(family))) {
    if (piece.kind === undefined) {
      fragment.appendChild(document.createTextNode(piece.text));
    } else {
      const span = document.createElement('span');
      span.className = `tok-${piece.kind}`;
      span.textContent = piece.text;
      fragment.appendChild(span);
    }
  }
  code.replaceChildren(fragment);
  code.dataset['highlighted'] = 'true';
}

function rulesFor(family: string): Rule[] {
  const comment = HASH_COMMENT.has(family)
    ? /#[^\n]*/y
    : SQL_COMMENT.has(family)
      ? /--[^\n]*/y
      : family === 'json'
        ? null
        : /\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/y;
  const words = KEYWORDS[family] ?? '';
  const rules: Rule[] = [];
  if (comment !== null) rules.push({ kind: 'comment', pattern: comment });
  rules.push({ kind: 'string', pattern: /"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`(?:[^`\\]|\\.)*`?/y });
  rules.push({ kind: 'number', pattern: /\b(?:0x[\da-f]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?)\b/iy });
  rules.push({ kind: 'keyword', pattern: new RegExp(`\\b(?:${words.split(' ').join('|')})\\b`, family === 'sql' ? 'iy' : 'y') });
  return rules;
}

function tokenize(text: string, rules: Rule[]): { text: string; kind?: TokenKind }[] {
  const out: { text: string; kind?: TokenKind }[] = [];
  let plain = '';
  let at = 0;
  while (at < text.length) {
    let matched = false;
    // Tokens start only at a word boundary or a symbol, so `x2` is not a number and `format` not `for`.
    const previous = at === 0 ? '' : text[at - 1];
    const inWord = /[\w$]/.test(previous) && /[\w$]/.test(text[at]);
    if (!inWord) {
      for (const rule of rules) {
        rule.pattern.lastIndex = at;
        const match = rule.pattern.exec(text);
        if (match !== null && match[0].length > 0) {
          if (plain !== '') out.push({ text: plain });
          plain = '';
          out.push({ text: match[0], kind: rule.kind });
          at += match[0].length;
          matched = true;
          break;
        }
      }
    }
    if (!matched) {
      plain += text[at];
      at += 1;
    }
  }
  if (plain !== '') out.push({ text: plain });
  return out;
}
