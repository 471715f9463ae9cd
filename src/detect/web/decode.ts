// Undoing the encodings attackers hide payloads behind, before detection: log escapes (`\xHH`), form encoding
// (`+` is a space), percent-encoding applied several times (`%252e`), IIS `%uHHHH`, HTML character references,
// and the split of a query string into its parameters. Every function is linear and never throws on bad input.

/** Percent-decoding rounds: `%2527` is `'` after two; attackers rarely go deeper, and each round is O(n). */
const MAX_DECODE_ROUNDS = 4;
/** Parameters looked at one by one; a query with more is still checked whole. */
const MAX_PARAMS = 256;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 32;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * Decodes `%HH` and IIS's `%uHHHH` escapes. Bytes become the characters of the same code (Latin-1 view), so
 * detection sees exactly the bytes a server would, including invalid UTF-8; malformed escapes are kept as they are.
 */
export function percentDecodeOnce(s: string): string {
  const first = s.indexOf('%');
  if (first < 0) return s;
  let out = s.slice(0, first);
  const n = s.length;
  let i = first;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < n) {
      const h = hexValue(s.charCodeAt(i + 1));
      const l = hexValue(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        out += String.fromCharCode(h * 16 + l);
        i += 3;
        continue;
      }
      const u = s.charCodeAt(i + 1) | 32;
      if (u === 117 && i + 5 < n) {
        const a = hexValue(s.charCodeAt(i + 2));
        const b = hexValue(s.charCodeAt(i + 3));
        const d = hexValue(s.charCodeAt(i + 4));
        const e = hexValue(s.charCodeAt(i + 5));
        if (a >= 0 && b >= 0 && d >= 0 && e >= 0) {
          out += String.fromCharCode(((a * 16 + b) * 16 + d) * 16 + e);
          i += 6;
          continue;
        }
      }
    }
    out += s[i];
    i++;
  }
  return out;
}

/** Percent-decodes until nothing changes (at most MAX_DECODE_ROUNDS rounds). */
export function percentDecode(s: string): string {
  let current = s;
  for (let round = 0; round < MAX_DECODE_ROUNDS && current.includes('%'); round++) {
    const next = percentDecodeOnce(current);
    if (next === current) break;
    current = next;
  }
  return current;
}

/** `\xHH` escapes written by nginx and Apache for bytes they will not log as is (RFC-less, both servers' format). */
export function unescapeLog(s: string): string {
  if (!s.includes('\\x')) return s;
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Form decoding (application/x-www-form-urlencoded): `+` is a space, then percent-decoding (repeated). */
export function formDecode(s: string): string {
  return percentDecode(unescapeLog(s).replaceAll('+', ' '));
}

/** The named character references attackers use to hide markup and URL schemes (HTML Living Standard §13.5). */
const NAMED_REFERENCES: Record<string, string> = {
  lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", colon: ':', sol: '/', bsol: '\\', lpar: '(', rpar: ')',
  semi: ';', equals: '=', excl: '!', num: '#', percnt: '%', period: '.', comma: ',', tab: '\t', newline: '\n',
  nbsp: '\u00a0', grave: '`', lsqb: '[', rsqb: ']', lcub: '{', rcub: '}', plus: '+', dollar: '$', quest: '?',
};

/**
 * Decodes HTML character references: `&#106;`, `&#x6A;` (the `;` optional, leading zeros allowed, as browsers
 * accept) and the named ones in NAMED_REFERENCES (case-insensitive). Unknown references stay as written.
 */
export function htmlDecode(s: string): string {
  const first = s.indexOf('&');
  if (first < 0) return s;
  let out = s.slice(0, first);
  const n = s.length;
  let i = first;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c !== 38) {
      out += s[i];
      i++;
      continue;
    }
    if (i + 1 < n && s.charCodeAt(i + 1) === 35) {
      let j = i + 2;
      const hex = j < n && (s.charCodeAt(j) | 32) === 120;
      if (hex) j++;
      let value = 0;
      const digitsStart = j;
      while (j < n && j - digitsStart < 16) {
        const d = hex ? hexValue(s.charCodeAt(j)) : s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57 ? s.charCodeAt(j) - 48 : -1;
        if (d < 0) break;
        value = value * (hex ? 16 : 10) + d;
        j++;
      }
      if (j > digitsStart && value <= 0x10ffff) {
        if (j < n && s.charCodeAt(j) === 59) j++;
        out += String.fromCodePoint(value);
        i = j;
        continue;
      }
    } else {
      let j = i + 1;
      while (j < n && j - i <= 10 && isAsciiLetter(s.charCodeAt(j))) j++;
      const name = s.slice(i + 1, j).toLowerCase();
      const value = NAMED_REFERENCES[name];
      if (value !== undefined && Object.hasOwn(NAMED_REFERENCES, name)) {
        if (j < n && s.charCodeAt(j) === 59) j++;
        out += value;
        i = j;
        continue;
      }
    }
    out += '&';
    i++;
  }
  return out;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** One text to run a detector on, and where it came from. */
export interface Candidate {
  /** The decoded text. */
  text: string;
  /** The query parameter's (decoded) name when the text is that parameter's value. */
  param?: string;
}

/**
 * The decoded texts a detector should look at for one field value: each query parameter's value (when the value is
 * a query string), then the whole value. Duplicates are dropped. The total length is at most twice the input's.
 */
export function inputCandidates(value: string): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (text: string, param?: string): void => {
    if (text.length === 0 || seen.has(text)) return;
    seen.add(text);
    out.push(param === undefined ? { text } : { text, param });
  };
  if (value.includes('=') || value.includes('&')) {
    let start = 0;
    for (let count = 0; start <= value.length && count < MAX_PARAMS; count++) {
      let end = value.indexOf('&', start);
      if (end < 0) end = value.length;
      const part = value.slice(start, end);
      const eq = part.indexOf('=');
      if (eq >= 0) add(formDecode(part.slice(eq + 1)), formDecode(part.slice(0, eq)));
      else add(formDecode(part));
      start = end + 1;
    }
  }
  add(formDecode(value));
  return out;
}
