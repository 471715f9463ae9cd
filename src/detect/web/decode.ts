// Undoing the encodings attackers hide payloads behind, before detection: log escapes (`\xHH`), form encoding
// (`+` is a space), percent-encoding applied several times (`%252e`), IIS `%uHHHH`, HTML character references,
// and the split of a query string into its parameters. Every function is linear and never throws on bad input.

/** Percent-decoding rounds: `%2527` is `'` after two; attackers rarely go deeper, and each round is O(n). */
const MAX_DECODE_ROUNDS = 4;

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

/**
 * Decodes the UTF-8 sequences in a byte string (as percentDecode returns), leaving bytes that are not valid UTF-8 —
 * including overlong forms such as `%c0%ae`, which RFC 3629 §3 forbids — as they are.
 */
export function utf8Decode(s: string): string {
  let i = 0;
  const n = s.length;
  while (i < n && s.charCodeAt(i) < 0x80) i++;
  if (i === n) return s;
  let out = s.slice(0, i);
  while (i < n) {
    const b0 = s.charCodeAt(i);
    let need = 0;
    let min = 0;
    let cp = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) [need, min, cp] = [1, 0x80, b0 & 0x1f];
    else if (b0 >= 0xe0 && b0 <= 0xef) [need, min, cp] = [2, 0x800, b0 & 0x0f];
    else if (b0 >= 0xf0 && b0 <= 0xf4) [need, min, cp] = [3, 0x10000, b0 & 0x07];
    let ok = need > 0 && i + need < n;
    for (let k = 1; ok && k <= need; k++) {
      const b = s.charCodeAt(i + k);
      if (b < 0x80 || b > 0xbf) ok = false;
      else cp = (cp << 6) | (b & 0x3f);
    }
    if (ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
      out += String.fromCodePoint(cp);
      i += need + 1;
    } else {
      out += s[i];
      i++;
    }
  }
  return out;
}

/**
 * Folds the full-width forms of ASCII (U+FF01-U+FF5E, Unicode block "Halfwidth and Fullwidth Forms") to ASCII, as
 * Windows "best fit" code page conversion and NFKC normalization in some frameworks do: `＜script＞` is `<script>`.
 */
export function foldFullwidth(s: string): string {
  if (!/[\uff01-\uff5e]/.test(s)) return s;
  return s.replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** The named character references attackers use to hide markup and URL schemes (HTML Living Standard §13.5). */
const NAMED_REFERENCES: Record<string, string> = {
  lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", colon: ':', sol: '/', bsol: '\\', lpar: '(', rpar: ')',
  semi: ';', equals: '=', excl: '!', num: '#', percnt: '%', period: '.', comma: ',', tab: '\t', newline: '\n',
  nbsp: '\u00a0', grave: '`', lsqb: '[', rsqb: ']', lcub: '{', rcub: '}', lbrace: '{', rbrace: '}', plus: '+',
  dollar: '$', quest: '?', lbrack: '[', rbrack: ']', ast: '*', midast: '*', hyphen: '-', dash: '-', vert: '|',
};

/** Longest name in NAMED_REFERENCES. */
const MAX_NAMED = 8;

/**
 * The character reference starting at `i` (which holds `&`): `&#106;`, `&#x6A;` (the `;` optional, any number of
 * leading zeros, as browsers accept) or a name from NAMED_REFERENCES (case-insensitive, longest match, `;` optional).
 * Returns the character and the index after the reference, or undefined when there is none.
 */
export function referenceAt(s: string, i: number): { char: string; next: number } | undefined {
  const n = s.length;
  if (i + 1 < n && s.charCodeAt(i + 1) === 35) {
    let j = i + 2;
    const hex = j < n && (s.charCodeAt(j) | 32) === 120;
    if (hex) j++;
    const digitsStart = j;
    while (j < n && s.charCodeAt(j) === 48) j++;
    let value = 0;
    const significant = j;
    while (j < n && j - significant < 8) {
      const c = s.charCodeAt(j);
      const d = hex ? hexValue(c) : c >= 48 && c <= 57 ? c - 48 : -1;
      if (d < 0) break;
      value = value * (hex ? 16 : 10) + d;
      j++;
    }
    if (j === digitsStart || value > 0x10ffff) return undefined;
    if (j < n && s.charCodeAt(j) === 59) j++;
    return { char: String.fromCodePoint(value), next: j };
  }
  let j = i + 1;
  while (j < n && j - i <= MAX_NAMED && isAsciiLetter(s.charCodeAt(j))) j++;
  const letters = s.slice(i + 1, j).toLowerCase();
  for (let len = letters.length; len >= 2; len--) {
    const name = letters.slice(0, len);
    if (Object.hasOwn(NAMED_REFERENCES, name)) {
      let next = i + 1 + len;
      if (next < n && s.charCodeAt(next) === 59) next++;
      return { char: NAMED_REFERENCES[name]!, next };
    }
  }
  return undefined;
}

/** Decodes every character reference referenceAt knows; unknown ones stay as written. */
export function htmlDecode(s: string): string {
  const first = s.indexOf('&');
  if (first < 0) return s;
  let out = s.slice(0, first);
  let i = first;
  while (i < s.length) {
    if (s.charCodeAt(i) === 38) {
      const ref = referenceAt(s, i);
      if (ref !== undefined) {
        out += ref.char;
        i = ref.next;
        continue;
      }
    }
    out += s[i];
    i++;
  }
  return out;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** A parameter name as forms and frameworks write them: letters, digits, `_.-[]`, percent escapes, `+`. */
const PARAM_NAME = /^[\w.\-[\]%:@$!*~]*$/;

/**
 * Whether `value` is a query string (`name=value&name=value`): every `&`-separated part that has a `=` has a
 * name-like left side, and one part at least has a `=`. `1' or 1=1` is a value with `=` in it, not a query string.
 */
export function isQueryString(value: string): boolean {
  let sawPair = false;
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf('&', start);
    if (end < 0) end = value.length;
    const eq = value.indexOf('=', start);
    if (eq >= 0 && eq < end) {
      if (!PARAM_NAME.test(value.slice(start, eq))) return false;
      sawPair = true;
    }
    start = end + 1;
  }
  return sawPair;
}

/** One text to run a detector on, and where it came from. */
export interface Candidate {
  /** The decoded text. */
  readonly text: string;
  /** The query parameter's (decoded) name when the text is that parameter's value. */
  readonly param?: string;
  /**
   * True for the whole value of a query string that was also split into parameters: its text mixes several
   * parameters, so detectors read it only in the contexts that do not depend on where a parameter starts.
   */
  readonly whole?: boolean;
}

/**
 * The decoded texts a detector should look at for one field value: each query parameter's value (when the value is
 * a query string), then the whole value. Duplicates are dropped. The total length is at most twice the input's.
 * Every parameter is looked at (their lengths add up to the input's, so this stays linear).
 */
export function inputCandidates(value: string): readonly Candidate[] {
  // Every detector of a field decodes the same value: the last few answers are kept (they are never changed).
  // (Long values are not kept: they are rare, and V8 hashes a long string by its length alone.)
  if (value.length > RECENT_MAX_LENGTH) return decodeCandidates(value);
  const known = recentCandidates.get(value);
  if (known !== undefined) return known;
  const out = decodeCandidates(value);
  if (recentCandidates.size >= RECENT_VALUES) recentCandidates.delete(recentCandidates.keys().next().value as string);
  recentCandidates.set(value, out);
  return out;
}

/** Values whose candidates are kept: the fields of one event that the detectors read (query, path, user agent …). */
const RECENT_VALUES = 8;
const RECENT_MAX_LENGTH = 4096;
const recentCandidates = new Map<string, readonly Candidate[]>();

function decodeCandidates(value: string): readonly Candidate[] {
  const out: Candidate[] = [];
  let seen: Set<string> | undefined;
  const add = (text: string, param?: string, whole = false): void => {
    if (text.length === 0) return;
    // Most values have a few candidates: compare with them; a long query string gets a set.
    if (out.length < 8) {
      for (const c of out) if (c.text === text) return;
    } else {
      seen ??= new Set(out.map((c) => c.text));
      if (seen.has(text)) return;
      seen.add(text);
    }
    out.push(param !== undefined ? (whole ? { text, param, whole } : { text, param }) : whole ? { text, whole } : { text });
  };
  const split = isQueryString(value);
  if (split) {
    let start = 0;
    while (start <= value.length) {
      let end = value.indexOf('&', start);
      if (end < 0) end = value.length;
      const part = value.slice(start, end);
      const eq = part.indexOf('=');
      if (eq >= 0) add(formDecode(part.slice(eq + 1)), formDecode(part.slice(0, eq)));
      else add(formDecode(part));
      start = end + 1;
    }
  }
  add(formDecode(value), undefined, split);
  return out;
}
