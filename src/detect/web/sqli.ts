// SQL injection detection the way libinjection does it: tokenize the input as SQL in three quote contexts (as is,
// as if inside '…', as if inside "…"), fold the tokens into at most five, and look the token types up in a set of
// fingerprints of known injections. Linear in the input: every token is read once, and folding stops at five.
import { FINGERPRINTS, KEYWORDS } from './libinjection/data.js';
import { inputCandidates } from './decode.js';

/**
 * Token types (libinjection's letters): k keyword, U union, B group by/order by/limit, E expression starter
 * (select, insert, …), t SQL type, f function, n bare word, 1 number, v variable, s string, o operator, & logic
 * operator, c comment, A collate, ( ) { } . , : ; punctuation, T T-SQL statement, ? unknown, \ backslash,
 * X unparsable (always reported).
 */
type TokenType = string;

interface Token {
  type: TokenType;
  pos: number;
  /** Length in the input, capped at TOKEN_CAP like libinjection's fixed-size token value. */
  len: number;
  /** Index just past the token's text (before a closing quote), uncapped. */
  end: number;
  /** The first TOKEN_CAP characters of the token. */
  val: string;
  /** The quote a string opened or closed with ('' when the string was simulated or ran to the end). */
  strOpen: string;
  strClose: string;
}

/** libinjection keeps 31 characters of a token; keyword lookups and merges work on those only. */
const TOKEN_CAP = 31;
const MAX_TOKENS = 5;

const KEYWORD_TYPES = new Map<string, string>();
for (const line of KEYWORDS.split('\n')) {
  if (line.length > 2) KEYWORD_TYPES.set(line.slice(2), line[0]!);
}
const FINGERPRINT_SET = new Set<string>(FINGERPRINTS.split(/\s+/).filter((f) => f.length > 0).map(asciiUpper));

/** Upper-cases a-z only, so that no Unicode case mapping can turn a non-keyword into a keyword. */
function asciiUpper(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : s[i];
  }
  return out;
}

const NON_ASCII = /[^\x00-\x7f]/;

function keywordType(word: string): string | undefined {
  // Keywords are ASCII: a word with any other character is none, whatever Unicode upper-casing would make of it.
  if (word.length === 0 || word.length > TOKEN_CAP) return undefined;
  const type = KEYWORD_TYPES.get(word.toUpperCase());
  return type !== undefined && NON_ASCII.test(word) ? undefined : type;
}

/** Character classes: which reader starts at a character (libinjection's char_parse_map). */
const enum Cls { White, Bang, Str, Hash, Money, Op1, Op2, LParen, RParen, Unary, Comma, Dash, Num, Slash, Semicolon,
  Other, Var, Word, BString, EString, NQString, QString, UString, XString, BWord, Back, Tick, LBrace, RBrace }

const CLASS = new Uint8Array(256).fill(Cls.Word);
for (let c = 0; c <= 32; c++) CLASS[c] = Cls.White;
CLASS[127] = Cls.White;
CLASS[160] = Cls.White;
const punctuation: Array<[string, Cls]> = [
  ['!', Cls.Bang], ['"', Cls.Str], ['#', Cls.Hash], ['$', Cls.Money], ['%', Cls.Op1], ['&', Cls.Op2], ["'", Cls.Str],
  ['(', Cls.LParen], [')', Cls.RParen], ['*', Cls.Op2], ['+', Cls.Unary], [',', Cls.Comma], ['-', Cls.Dash],
  ['.', Cls.Num], ['/', Cls.Slash], [':', Cls.Op2], [';', Cls.Semicolon], ['<', Cls.Op2], ['=', Cls.Op2],
  ['>', Cls.Op2], ['?', Cls.Other], ['@', Cls.Var], ['[', Cls.BWord], ['\\', Cls.Back], [']', Cls.Other],
  ['^', Cls.Op1], ['`', Cls.Tick], ['{', Cls.LBrace], ['|', Cls.Op2], ['}', Cls.RBrace], ['~', Cls.Unary],
];
for (const [ch, cls] of punctuation) CLASS[ch.charCodeAt(0)] = cls;
for (let c = 48; c <= 57; c++) CLASS[c] = Cls.Num;
for (const [letters, cls] of [['Bb', Cls.BString], ['Ee', Cls.EString], ['Nn', Cls.NQString], ['Qq', Cls.QString],
  ['Uu', Cls.UString], ['Xx', Cls.XString]] as const) {
  for (const ch of letters) CLASS[ch.charCodeAt(0)] = cls;
}

function classOf(code: number): Cls {
  return code < 256 ? CLASS[code]! : Cls.Word;
}

/** SQL white space, including NUL (Oracle) and Latin-1 no-break space (MySQL). */
function isWhite(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0 || code === 160;
}

/** Characters that end a bare word. */
const WORD_END = charSet(" []{}<>:\\?=@!#~+-*/&|^%(),';\t\n\v\f\r\"\u00a0\u0000");
/** Characters that end a variable name. */
const VAR_END = charSet(" <>:\\?=@!#~+-*/&|^%(),';\t\n\v\f\r'`\"");

function charSet(chars: string): Uint8Array {
  const set = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) set[chars.charCodeAt(i)] = 1;
  return set;
}

function inSet(set: Uint8Array, code: number): boolean {
  return code < 256 && set[code] === 1;
}

/** Index of the two-character sequence `a b` starting in [from, to), or -1. */
function findPair(s: string, a: number, b: number, from: number, to: number): number {
  for (let i = from; i + 1 < to; i++) {
    if (s.charCodeAt(i) === a && s.charCodeAt(i + 1) === b) return i;
  }
  return -1;
}

function emptyToken(): Token {
  return { type: '', pos: 0, len: 0, end: 0, val: '', strOpen: '', strClose: '' };
}

function copyToken(dst: Token, src: Token): void {
  dst.type = src.type;
  dst.pos = src.pos;
  dst.len = src.len;
  dst.end = src.end;
  dst.val = src.val;
  dst.strOpen = src.strOpen;
  dst.strClose = src.strClose;
}

/** One pass over the input in one context. */
class SqlScanner {
  s = '';
  quote: '' | "'" | '"' = '';
  mysql = false;
  pos = 0;
  /** Tokens read, for the heuristics that tell folded input from plain input. */
  tokensRead = 0;
  /** `--x` read as a comment and `#` seen: both mean "try again as MySQL". */
  dashComments = 0;
  hashes = 0;
  readonly tokens: Token[] = Array.from({ length: 8 }, emptyToken);
  current: Token = this.tokens[0]!;

  /** Starts a pass over `s` in one context (the scanner is reused: detection is synchronous). */
  reset(s: string, quote: '' | "'" | '"', mysql: boolean): this {
    this.s = s;
    this.quote = quote;
    this.mysql = mysql;
    this.pos = 0;
    this.tokensRead = 0;
    this.dashComments = 0;
    this.hashes = 0;
    for (const t of this.tokens) t.type = '';
    this.current = this.tokens[0]!;
    return this;
  }

  private assign(type: TokenType, pos: number, len: number): void {
    const t = this.current;
    t.type = type;
    t.pos = pos;
    t.len = Math.min(len, TOKEN_CAP);
    t.end = pos + len;
    t.val = this.s.slice(pos, pos + t.len);
  }

  private assignChar(type: TokenType, pos: number): void {
    this.assign(type, pos, 1);
  }

  /** Reads the next token into `current`; false at the end of the input. */
  next(): boolean {
    const s = this.s;
    const n = s.length;
    if (n === 0) return false;
    const t = this.current;
    t.type = '';
    t.strOpen = '';
    t.strClose = '';
    if (this.pos === 0 && this.quote !== '') {
      // In a quote context the input starts inside a string: read up to the closing quote.
      this.pos = this.readString(0, this.quote, 0);
      this.tokensRead++;
      return true;
    }
    while (this.pos < n) {
      this.pos = this.readAt(this.pos);
      if (t.type !== '') {
        this.tokensRead++;
        return true;
      }
    }
    return false;
  }

  private readAt(pos: number): number {
    const s = this.s;
    switch (classOf(s.charCodeAt(pos))) {
      case Cls.White: return pos + 1;
      case Cls.Bang: case Cls.Op2: return this.readOperator2(pos);
      case Cls.Str: return this.readString(pos, s[pos]!, 1);
      case Cls.Hash: return this.readHash(pos);
      case Cls.Money: return this.readMoney(pos);
      case Cls.Op1: case Cls.Unary: this.assignChar('o', pos); return pos + 1;
      case Cls.LParen: case Cls.RParen: case Cls.Comma: case Cls.Semicolon: case Cls.LBrace: case Cls.RBrace:
        this.assignChar(s[pos]!, pos);
        return pos + 1;
      case Cls.Dash: return this.readDash(pos);
      case Cls.Num: return this.readNumber(pos);
      case Cls.Slash: return this.readSlash(pos);
      case Cls.Other: this.assignChar('?', pos); return pos + 1;
      case Cls.Var: return this.readVariable(pos);
      case Cls.Word: return this.readWord(pos);
      case Cls.BString: return this.readBinaryLiteral(pos, /^[01]$/);
      case Cls.XString: return this.readBinaryLiteral(pos, /^[0-9a-fA-F]$/);
      case Cls.EString: return this.readEString(pos);
      case Cls.NQString: return this.readNQString(pos);
      case Cls.QString: return this.readQString(pos, 0);
      case Cls.UString: return this.readUString(pos);
      case Cls.BWord: return this.readBracketWord(pos);
      case Cls.Back: return this.readBackslash(pos);
      case Cls.Tick: return this.readTick(pos);
    }
  }

  /** `--` comments, `--x` (a comment in ANSI SQL, two minus signs in MySQL), or a minus sign. */
  private readDash(pos: number): number {
    const s = this.s;
    const n = s.length;
    if (pos + 1 < n && s.charCodeAt(pos + 1) === 45) {
      if (pos + 2 === n || isWhite(s.charCodeAt(pos + 2))) return this.readLineComment(pos);
      if (!this.mysql) {
        this.dashComments++;
        return this.readLineComment(pos);
      }
    }
    this.assignChar('o', pos);
    return pos + 1;
  }

  private readLineComment(pos: number): number {
    const end = this.s.indexOf('\n', pos);
    if (end < 0) {
      this.assign('c', pos, this.s.length - pos);
      return this.s.length;
    }
    this.assign('c', pos, end - pos);
    return end + 1;
  }

  /** `#` starts a comment in MySQL and is an operator elsewhere. */
  private readHash(pos: number): number {
    this.hashes++;
    if (this.mysql) return this.readLineComment(pos);
    this.assignChar('o', pos);
    return pos + 1;
  }

  /**
   * `/* … *\/` comments. Nested comments (PostgreSQL) and MySQL's executable `/*! … *\/` cannot be parsed
   * consistently across databases, so they make the input unparsable ('X'), which is always reported.
   */
  private readSlash(pos: number): number {
    const s = this.s;
    const n = s.length;
    if (pos + 1 === n || s.charCodeAt(pos + 1) !== 42) {
      this.assignChar('o', pos);
      return pos + 1;
    }
    const close = findPair(s, 42, 47, pos + 2, n);
    const len = close < 0 ? n - pos : close + 2 - pos;
    let type = 'c';
    if (close >= 0 && findPair(s, 47, 42, pos + 2, close + 1) >= 0) type = 'X';
    else if (pos + 2 < n && s.charCodeAt(pos + 2) === 33) type = 'X';
    this.assign(type, pos, len);
    return pos + len;
  }

  /** `\N` is MySQL's NULL. */
  private readBackslash(pos: number): number {
    if (pos + 1 < this.s.length && this.s.charCodeAt(pos + 1) === 78) {
      this.assign('1', pos, 2);
      return pos + 2;
    }
    this.assignChar('\\', pos);
    return pos + 1;
  }

  private readOperator2(pos: number): number {
    const s = this.s;
    const n = s.length;
    if (pos + 1 >= n) {
      this.assignChar('o', pos);
      return pos + 1;
    }
    if (pos + 2 < n && s.startsWith('<=>', pos)) {
      this.assign('o', pos, 3);
      return pos + 3;
    }
    const type = keywordType(s.slice(pos, pos + 2));
    if (type !== undefined) {
      this.assign(type, pos, 2);
      return pos + 2;
    }
    this.assignChar(s.charCodeAt(pos) === 58 ? ':' : 'o', pos);
    return pos + 1;
  }

  /**
   * A string from `pos` (`offset` characters of prefix, 0 for the simulated opening quote of a quote context) to
   * the closing `delim`; a delimiter preceded by an odd number of backslashes, or doubled, does not close it.
   */
  private readString(pos: number, delim: string, offset: number): number {
    const s = this.s;
    const start = pos + offset;
    let q = s.indexOf(delim, start);
    for (;;) {
      if (q < 0) {
        this.assign('s', start, s.length - start);
        this.current.strOpen = offset > 0 ? delim : '';
        this.current.strClose = '';
        return s.length;
      }
      let backslashes = 0;
      while (q - 1 - backslashes >= start && s.charCodeAt(q - 1 - backslashes) === 92) backslashes++;
      if ((backslashes & 1) === 1) {
        q = s.indexOf(delim, q + 1);
      } else if (q + 1 < s.length && s[q + 1] === delim) {
        q = s.indexOf(delim, q + 2);
      } else {
        this.assign('s', start, q - start);
        this.current.strOpen = offset > 0 ? delim : '';
        this.current.strClose = delim;
        return q + 1;
      }
    }
  }

  /** `E'…'` (PostgreSQL escaped string) and `N'…'` (national character set), else a word. */
  private readEString(pos: number): number {
    if (pos + 2 >= this.s.length || this.s.charCodeAt(pos + 1) !== 39) return this.readWord(pos);
    return this.readString(pos, "'", 2);
  }

  /** `U&'…'` (Unicode string), else a word. */
  private readUString(pos: number): number {
    const s = this.s;
    if (pos + 2 < s.length && s.charCodeAt(pos + 1) === 38 && s.charCodeAt(pos + 2) === 39) {
      const end = this.readString(pos + 2, "'", 1);
      this.current.strOpen = 'u';
      if (this.current.strClose === "'") this.current.strClose = 'u';
      return end;
    }
    return this.readWord(pos);
  }

  /** `N'…'` or Oracle's `nq'…'`. */
  private readNQString(pos: number): number {
    if (pos + 2 < this.s.length && this.s.charCodeAt(pos + 1) === 39) return this.readEString(pos);
    return this.readQString(pos, 1);
  }

  /** Oracle's quote operator `q'[…]'` with any delimiter. */
  private readQString(start: number, offset: number): number {
    const s = this.s;
    const n = s.length;
    const pos = start + offset;
    const q = s.charCodeAt(pos);
    if (pos >= n || (q !== 113 && q !== 81) || pos + 2 >= n || s.charCodeAt(pos + 1) !== 39) return this.readWord(start);
    let close = s.charCodeAt(pos + 2);
    if (close < 33 || close > 127) return this.readWord(start);
    if (close === 40) close = 41;
    else if (close === 91) close = 93;
    else if (close === 123) close = 125;
    else if (close === 60) close = 62;
    const end = findPair(s, close, 39, pos + 3, n);
    if (end < 0) {
      this.assign('s', pos + 3, n - pos - 3);
      this.current.strOpen = 'q';
      this.current.strClose = '';
      return n;
    }
    this.assign('s', pos + 3, end - pos - 3);
    this.current.strOpen = 'q';
    this.current.strClose = 'q';
    return end + 2;
  }

  /** `b'0101'` and `x'1f'` literals are numbers; otherwise a word. */
  private readBinaryLiteral(pos: number, digit: RegExp): number {
    const s = this.s;
    const n = s.length;
    if (pos + 2 >= n || s.charCodeAt(pos + 1) !== 39) return this.readWord(pos);
    let i = pos + 2;
    while (i < n && digit.test(s[i]!)) i++;
    if (i >= n || s.charCodeAt(i) !== 39) return this.readWord(pos);
    this.assign('1', pos, i + 1 - pos);
    return i + 1;
  }

  /** `[name]` is a word in MySQL mode (SQL Server quoting); elsewhere libinjection reads `[` as a parenthesis. */
  private readBracketWord(pos: number): number {
    if (!this.mysql) {
      this.assignChar('(', pos);
      return pos + 1;
    }
    const end = this.s.indexOf(']', pos);
    const len = end < 0 ? this.s.length - pos : end - pos + 1;
    this.assign('n', pos, len);
    return pos + len;
  }

  /** MySQL back-quoted names: a function name stays a function, anything else is a bare word. */
  private readTick(pos: number): number {
    const end = this.readString(pos, '`', 1);
    this.current.type = keywordType(this.current.val) === 'f' ? 'f' : 'n';
    return end;
  }

  /** `@var`, `@@system_var`, `@@\`name\``, `@'name'`. */
  private readVariable(at: number): number {
    const s = this.s;
    const n = s.length;
    let pos = at + 1;
    if (pos < n && s.charCodeAt(pos) === 64) pos++;
    if (pos < n) {
      const c = s.charCodeAt(pos);
      if (c === 96) {
        const end = this.readTick(pos);
        this.current.type = 'v';
        return end;
      }
      if (c === 39 || c === 34) {
        const end = this.readString(pos, s[pos]!, 1);
        this.current.type = 'v';
        return end;
      }
    }
    let end = pos;
    while (end < n && !inSet(VAR_END, s.charCodeAt(end))) end++;
    this.assign('v', pos, end - pos);
    return end;
  }

  /** `$1,000.00` (number), PostgreSQL `$$…$$` and `$tag$…$tag$` strings, else a `$` word. */
  private readMoney(pos: number): number {
    const s = this.s;
    const n = s.length;
    if (pos + 1 === n) {
      this.assignChar('n', pos);
      return n;
    }
    let i = pos + 1;
    while (i < n && /^[0-9.,]$/.test(s[i]!)) i++;
    const digits = i - pos - 1;
    if (digits === 0) {
      if (s.charCodeAt(pos + 1) === 36) {
        const end = findPair(s, 36, 36, pos + 2, n);
        return this.dollarString(pos + 2, end, end < 0 ? n : end + 2);
      }
      let j = pos + 1;
      while (j < n && isAsciiLetter(s.charCodeAt(j))) j++;
      const tagLen = j - pos - 1;
      if (tagLen === 0 || j === n || s.charCodeAt(j) !== 36) {
        this.assignChar('n', pos);
        return pos + 1;
      }
      const tag = s.slice(pos, j + 1);
      const end = s.indexOf(tag, j + 1);
      return this.dollarString(j + 1, end, end < 0 ? n : end + tag.length);
    }
    if (digits === 1 && s.charCodeAt(pos + 1) === 46) return this.readWord(pos);
    this.assign('1', pos, 1 + digits);
    return pos + 1 + digits;
  }

  private dollarString(start: number, end: number, next: number): number {
    const n = this.s.length;
    this.assign('s', start, (end < 0 ? n : end) - start);
    this.current.strOpen = '$';
    this.current.strClose = end < 0 ? '' : '$';
    return next;
  }

  /**
   * Numbers: hex `0x…`, binary `0b…`, decimals with exponent and Oracle's `d`/`f` suffixes. A lone `.` is a dot.
   * `1.e` without exponent digits produces no token at all: MySQL ignores it, so `1.e(1)` reads as `(1)`.
   */
  private readNumber(start: number): number {
    const s = this.s;
    const n = s.length;
    let pos = start;
    if (s.charCodeAt(pos) === 48 && pos + 1 < n) {
      const x = s.charCodeAt(pos + 1);
      const digit = x === 120 || x === 88 ? /^[0-9a-fA-F]$/ : x === 98 || x === 66 ? /^[01]$/ : undefined;
      if (digit !== undefined) {
        let i = pos + 2;
        while (i < n && digit.test(s[i]!)) i++;
        this.assign(i === pos + 2 ? 'n' : '1', pos, i - pos);
        return i;
      }
    }
    while (pos < n && isDigit(s.charCodeAt(pos))) pos++;
    if (pos < n && s.charCodeAt(pos) === 46) {
      pos++;
      while (pos < n && isDigit(s.charCodeAt(pos))) pos++;
      if (pos - start === 1) {
        this.assignChar('.', start);
        return pos;
      }
    }
    let haveE = false;
    let haveExp = false;
    if (pos < n && (s.charCodeAt(pos) | 32) === 101) {
      haveE = true;
      pos++;
      if (pos < n && (s.charCodeAt(pos) === 43 || s.charCodeAt(pos) === 45)) pos++;
      while (pos < n && isDigit(s.charCodeAt(pos))) {
        haveExp = true;
        pos++;
      }
    }
    if (pos < n) {
      const c = s.charCodeAt(pos) | 32;
      if (c === 100 || c === 102) {
        if (pos + 1 === n) pos++;
        else {
          const after = s.charCodeAt(pos + 1);
          if (isWhite(after) || after === 59 || (after | 32) === 117) pos++;
        }
      }
    }
    if (!(haveE && !haveExp)) this.assign('1', start, pos - start);
    return pos;
  }

  /** A bare word, keyword, function or operator word. `SELECT.1` and ``SELECT`x` `` split after the keyword. */
  private readWord(pos: number): number {
    const s = this.s;
    const n = s.length;
    let end = pos;
    while (end < n && !inSet(WORD_END, s.charCodeAt(end))) end++;
    const wlen = end - pos;
    this.assign('n', pos, wlen);
    const val = this.current.val;
    for (let i = 0; i < val.length; i++) {
      const c = val.charCodeAt(i);
      if (c === 46 || c === 96) {
        const type = keywordType(val.slice(0, i));
        if (type !== undefined && type !== 'n') {
          this.assign(type, pos, i);
          return pos + i;
        }
      }
    }
    if (wlen <= TOKEN_CAP) this.current.type = keywordType(val) ?? 'n';
    return end;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isUnaryOperator(t: Token): boolean {
  if (t.type !== 'o') return false;
  if (t.len === 1) return t.val === '+' || t.val === '-' || t.val === '!' || t.val === '~';
  if (t.len === 2) return t.val === '!!';
  return t.len === 3 && asciiUpper(t.val) === 'NOT';
}

function isArithmeticOperator(t: Token): boolean {
  return t.type === 'o' && t.len === 1 && '*/-+%'.includes(t.val);
}

function valIs(t: Token, word: string): boolean {
  return asciiUpper(t.val) === word;
}

const MERGE_LEFT = new Set(['k', 'n', 'o', 'U', 'f', 'E', 'T', 't']);
const MERGE_RIGHT = new Set(['k', 'n', 'o', 'U', 'f', 'E', 'T', 't', '&']);

/** `UNION` + `ALL` → `UNION ALL`: two words that form a known phrase become one token of the phrase's type. */
function mergeWords(a: Token, b: Token): boolean {
  if (!MERGE_LEFT.has(a.type) || !MERGE_RIGHT.has(b.type)) return false;
  const merged = `${a.val} ${b.val}`;
  if (merged.length > TOKEN_CAP) return false;
  const type = keywordType(merged);
  if (type === undefined) return false;
  a.type = type;
  a.len = merged.length;
  a.val = merged;
  return true;
}

/** Column-like names that are also zero-argument functions when followed by `(`. */
const NAME_FUNCTIONS = new Set(['USER_ID', 'USER_NAME', 'DATABASE', 'PASSWORD', 'USER', 'CURRENT_USER', 'CURRENT_DATE',
  'CURRENT_TIME', 'CURRENT_TIMESTAMP', 'LOCALTIME', 'LOCALTIMESTAMP']);

/**
 * Reads tokens and folds them (libinjection's fold): strings next to strings, arithmetic between literals, unary
 * operators and the like collapse, so that the first five significant tokens describe the statement's shape.
 * Returns the number of tokens in `sc.tokens` that make the fingerprint.
 */
function fold(sc: SqlScanner): number {
  const tv = sc.tokens;
  const lastComment = emptyToken();
  let pos = 0;
  let left = 0;
  let more = true;

  // Skip leading comments, opening parentheses, SQL types and unary operators.
  sc.current = tv[0]!;
  while (more) {
    more = sc.next();
    const t = sc.current;
    if (!(t.type === 'c' || t.type === '(' || t.type === 't' || isUnaryOperator(t))) break;
  }
  if (!more) return 0;
  pos = 1;

  for (;;) {
    if (pos >= MAX_TOKENS) {
      // Special five-token shapes that fold into one token and continue: `1,(1)`, `n o (n)`, `1),(1`, `n)o(n`.
      const [t0, t1, t2, t3, t4] = [tv[0]!.type, tv[1]!.type, tv[2]!.type, tv[3]!.type, tv[4]!.type];
      if ((t0 === '1' && (t1 === 'o' || t1 === ',') && t2 === '(' && t3 === '1' && t4 === ')')
        || (t0 === 'n' && t1 === 'o' && t2 === '(' && (t3 === 'n' || t3 === '1') && t4 === ')')
        || (t0 === '1' && t1 === ')' && t2 === ',' && t3 === '(' && t4 === '1')
        || (t0 === 'n' && t1 === ')' && t2 === 'o' && t3 === '(' && t4 === 'n')) {
        if (pos > MAX_TOKENS) {
          copyToken(tv[1]!, tv[MAX_TOKENS]!);
          pos = 2;
        } else {
          pos = 1;
        }
        left = 0;
      }
    }

    if (!more || left >= MAX_TOKENS) {
      left = pos;
      break;
    }

    // Get up to two tokens.
    while (more && pos <= MAX_TOKENS && pos - left < 2) {
      sc.current = tv[pos]!;
      more = sc.next();
      if (more) {
        if (sc.current.type === 'c') copyToken(lastComment, sc.current);
        else {
          lastComment.type = '';
          pos++;
        }
      }
    }
    if (pos - left < 2) {
      left = pos;
      continue;
    }

    const a = tv[left]!;
    const b = tv[left + 1]!;
    if (a.type === 's' && b.type === 's') {
      // 'foo' 'bar' is one string in SQL.
      pos--;
      continue;
    } else if (a.type === ';' && b.type === ';') {
      pos--;
      continue;
    } else if ((a.type === 'o' || a.type === '&') && (isUnaryOperator(b) || b.type === 't')) {
      pos--;
      left = 0;
      continue;
    } else if (a.type === '(' && isUnaryOperator(b)) {
      pos--;
      if (left > 0) left--;
      continue;
    } else if (mergeWords(a, b)) {
      pos--;
      if (left > 0) left--;
      continue;
    } else if (a.type === ';' && b.type === 'f' && valIs(b, 'IF')) {
      // IF after a semicolon is a T-SQL statement, not the IF() function.
      b.type = 'T';
      continue;
    } else if ((a.type === 'n' || a.type === 'v') && b.type === '(' && NAME_FUNCTIONS.has(asciiUpper(a.val))) {
      a.type = 'f';
      continue;
    } else if (a.type === 'k' && (valIs(a, 'IN') || valIs(a, 'NOT IN'))) {
      // `IN (` is an operator; IN elsewhere (IN BOOLEAN MODE) is a word.
      a.type = b.type === '(' ? 'o' : 'n';
      continue;
    } else if (a.type === 'o' && (valIs(a, 'LIKE') || valIs(a, 'NOT LIKE'))) {
      if (b.type === '(') a.type = 'f';
    } else if (a.type === 't' && 'n1t(fvs'.includes(b.type)) {
      copyToken(a, b);
      pos--;
      left = 0;
      continue;
    } else if (a.type === 'A' && b.type === 'n') {
      // Too many collations to list: a bare word with an underscore after COLLATE is one.
      if (b.val.includes('_')) {
        b.type = 't';
        left = 0;
      }
    } else if (a.type === '\\') {
      if (isArithmeticOperator(b)) {
        // T-SQL reads `\%1` as `0 % 1`.
        a.type = '1';
      } else {
        copyToken(a, b);
        pos--;
      }
      left = 0;
      continue;
    } else if ((a.type === '(' && b.type === '(') || (a.type === ')' && b.type === ')')) {
      pos--;
      left = 0;
      continue;
    } else if (a.type === '{' && b.type === 'n') {
      // ODBC `{foo expr}` is expr; MySQL's `{ \`\`.\`\`.id }` is too odd to parse: unparsable.
      if (b.len === 0) {
        b.type = 'X';
        return left + 2;
      }
      left = 0;
      pos -= 2;
      continue;
    } else if (b.type === '}') {
      pos--;
      left = 0;
      continue;
    }

    // Get a third token.
    while (more && pos <= MAX_TOKENS && pos - left < 3) {
      sc.current = tv[pos]!;
      more = sc.next();
      if (more) {
        if (sc.current.type === 'c') copyToken(lastComment, sc.current);
        else {
          lastComment.type = '';
          pos++;
        }
      }
    }
    if (pos - left < 3) {
      left = pos;
      continue;
    }

    const x = tv[left]!;
    const y = tv[left + 1]!;
    const z = tv[left + 2]!;
    if (x.type === '1' && y.type === 'o' && z.type === '1') {
      pos -= 2;
      left = 0;
      continue;
    } else if (x.type === 'o' && y.type !== '(' && z.type === 'o') {
      left = 0;
      pos -= 2;
      continue;
    } else if (x.type === '&' && z.type === '&') {
      pos -= 2;
      left = 0;
      continue;
    } else if (x.type === 'v' && y.type === 'o' && (z.type === 'v' || z.type === '1' || z.type === 'n')) {
      pos -= 2;
      left = 0;
      continue;
    } else if ((x.type === 'n' || x.type === '1') && y.type === 'o' && (z.type === '1' || z.type === 'n')) {
      pos -= 2;
      left = 0;
      continue;
    } else if ('n1vs'.includes(x.type) && y.type === 'o' && y.val === '::' && z.type === 't') {
      pos -= 2;
      left = 0;
      continue;
    } else if ('n1sv'.includes(x.type) && y.type === ',' && 'n1sv'.includes(z.type)) {
      pos -= 2;
      left = 0;
      continue;
    } else if ((x.type === 'E' || x.type === 'B' || x.type === ',') && isUnaryOperator(y) && z.type === '(') {
      // SELECT + (, LIMIT + ( : drop the unary operator.
      copyToken(y, z);
      pos--;
      left = 0;
      continue;
    } else if ((x.type === 'k' || x.type === 'E' || x.type === 'B') && isUnaryOperator(y) && 'n1vsf'.includes(z.type)) {
      copyToken(y, z);
      pos--;
      left = 0;
      continue;
    } else if (x.type === ',' && isUnaryOperator(y) && 'n1vs'.includes(z.type)) {
      // `1,-1` folds to `1`: back up to see whether more folding is possible.
      copyToken(y, z);
      left = 0;
      pos -= 3;
      continue;
    } else if (x.type === ',' && isUnaryOperator(y) && z.type === 'f') {
      copyToken(y, z);
      pos--;
      left = 0;
      continue;
    } else if (x.type === 'n' && y.type === '.' && z.type === 'n') {
      // database.table
      pos -= 2;
      left = 0;
      continue;
    } else if (x.type === 'E' && y.type === '.' && z.type === 'n') {
      copyToken(y, z);
      pos--;
      left = 0;
      continue;
    } else if (x.type === 'f' && y.type === '(' && z.type !== ')') {
      // USER(x) is not the zero-argument USER() function.
      if (valIs(x, 'USER')) x.type = 'n';
    }

    left++;
  }

  if (left < MAX_TOKENS && lastComment.type === 'c') {
    copyToken(tv[left]!, lastComment);
    left++;
  }
  return Math.min(left, MAX_TOKENS);
}

/** Runs one context and returns the fingerprint (token types), or 'X' when the input could not be parsed. */
const scanner = new SqlScanner();

function fingerprintOf(s: string, quote: '' | "'" | '"', mysql: boolean): { fingerprint: string; scanner: SqlScanner } {
  const sc = scanner.reset(s, quote, mysql);
  const n = fold(sc);
  const tv = sc.tokens;
  // PHP's unclosed empty backquote ends the statement like a comment.
  if (n > 2) {
    const last = tv[n - 1]!;
    if (last.type === 'n' && last.strOpen === '`' && last.len === 0 && last.strClose === '') last.type = 'c';
  }
  let fingerprint = '';
  for (let i = 0; i < n; i++) fingerprint += tv[i]!.type;
  if (fingerprint.includes('X')) fingerprint = 'X';
  return { fingerprint, scanner: sc };
}

/**
 * libinjection's second look at a known-bad fingerprint: short fingerprints that ordinary text also produces
 * ("1 union", "sexy and 17", "foo -- bar") are let through unless something else looks like SQL.
 */
function isInjection(fingerprint: string, sc: SqlScanner): boolean {
  if (!FINGERPRINT_SET.has(asciiUpper(fingerprint))) return false;
  const tv = sc.tokens;
  const s = sc.s;
  const len = fingerprint.length;
  // MS SQL Server's audit log leaves out statements that mention sp_password.
  if (len > 1 && fingerprint[len - 1] === 'c' && s.includes('sp_password')) return true;
  if (len === 2) {
    const t0 = tv[0]!;
    const t1 = tv[1]!;
    if (fingerprint[1] === 'U') return sc.tokensRead !== 2;
    if (t1.val.startsWith('#')) return false;
    if (t0.type === 'n' && t1.type === 'c' && !t1.val.startsWith('/')) return false;
    if (t0.type === '1' && t1.type === 'c') {
      if (t1.val.startsWith('/')) return true;
      if (sc.tokensRead > 2) return true;
      // `1234 --` and `1234/*` look like SQL; `1234-ABCD--` (base64-like ids) does not.
      const after = t0.len < s.length ? s.charCodeAt(t0.len) : 0;
      if (after <= 32) return true;
      const afterNext = t0.len + 1 < s.length ? s.charCodeAt(t0.len + 1) : 0;
      if (after === 47 && afterNext === 42) return true;
      if (after === 45 && afterNext === 45) return true;
      return false;
    }
    // Many people write `--` in plain text: only a trailing `--` counts.
    if (t1.len > 2 && t1.val.startsWith('-')) return false;
    return true;
  }
  if (len === 3) {
    if (fingerprint === 'sos' || fingerprint === 's&s') {
      // …foo' + 'bar… with no quote of its own at either end is an injection; a plain `'a' + 'b'` is not.
      const t0 = tv[0]!;
      const t1 = tv[1]!;
      const t2 = tv[2]!;
      if (!(t0.strOpen === '' && t2.strClose === '' && t0.strClose === t2.strOpen)) return false;
      return !quotedText(sc, t0, t1, t2);
    }
    if (['s&n', 'n&1', '1&1', '1&v', '1&s'].includes(fingerprint)) {
      // 'sexy and 17' is text; 'sexy and 17<18' is not; nor is '80% acrylic and 20% wool': `%` is modulo only
      // between operands, and a percentage is followed by a space.
      if (PERCENTAGE.test(s)) return false;
      return sc.tokensRead !== 3;
    }
    const t1 = tv[1]!;
    if (t1.type === 'k') return t1.len >= 5 && asciiUpper(t1.val).startsWith('INTO');
  }
  return true;
}

const PERCENTAGE = /\d%(?:\s|$)/;
/** A query string before the quote (`…&q=36"`): a URL or form data pasted into the value. */
const QUERY_BEFORE = /[?&][\w.\-[\]]*=/;
const ONLY_QUOTES = /^['"]{2,}$/;
const WORD = /^[a-z]+$/i;

/**
 * `…foo" OP "bar…` with the quote context's own quotes at both ends reads as a breakout around an operator; these
 * shapes of it are text (libinjection's false-positive list):
 * - what comes before the quote is several words: an injection closes one value (`1'`, `admin"`), not a phrase
 *   (`CHRISTMAS STOCKING "NOT" STUFFER`, `'countdown calendar" and "disney:`);
 * - a word or one sign quoted on its own in double quotes (`"IS" STAMP`, `SMALL "&" SIGN`, `"*"`): text quotes words
 *   that way, while the implicit-conversion injections (`A 'DIV' B`, `probe="a'or'a"`) close SQL's single-quoted
 *   literals, and stay injections even inside prose or markup;
 * - a query string before the quote (`/search?q=36"+x+48+"+frame`): a URL pasted into the value;
 * - a second string of nothing but quotes (`misterglas.dk'*''''''''`): stray quote characters, not an operand.
 */
function quotedText(sc: SqlScanner, t0: Token, t1: Token, t2: Token): boolean {
  const s = sc.s;
  const before = s.slice(t0.pos, t0.end);
  const quotedAlone = sc.tokensRead === 3 && t1.pos === t0.end + 1 && t2.pos === t1.end + 1 && (t1.len === 1 || WORD.test(t1.val));
  if (ONLY_QUOTES.test(s.slice(t2.pos, t2.end))) return true;
  // `…'or'…`, `'AND'`: the implicit-conversion and login-bypass shapes, wherever they are written.
  if (quotedAlone && sc.quote === "'") return false;
  if (/\s/.test(before.trim())) return true;
  if (quotedAlone) return true;
  return QUERY_BEFORE.test(before);
}

/**
 * Vigil's additions to the fingerprint set: shapes that only come from closing the literal the application opened
 * and continuing with SQL — a new statement (`1';select …`, `1');iif(…`), a subquery or function (`1' (select …`,
 * `1',(select …`, `1',exp(…`), a time delay (`1" waitfor delay '0:0:5'`), a WHERE with a tautology followed by
 * more SQL (`1' where 1=1;…`), or a comment that cuts the rest of the statement off (`admin'--`). libinjection
 * lists such shapes one by one, up to five tokens, and misses longer variants (`s;EEk` for `';select case when`).
 * A string counts only when the quote context opened it, a number only when punctuation follows it: `"Best"
 * (Select …)` and `2 (select one)` stay text.
 */
const STRING_BREAKOUT = /^s\)*(?:;\(*[ETf]|[,&o]?\(+E|,f\()/;
/** `admin'--`: the comment ends the input; `#` and `-- more text` are how people write, as libinjection found. */
const COMMENT_BREAKOUT = /^s\)*c$/;
const NUMBER_BREAKOUT = /^1(?:\)*(?:;\(*E|;f\(|[,&o]\(+E)|\)+\(+E)/;
const DELAY_BREAKOUT = /^[s1]\)*E/;
/** `1' where 1=1;…`, `1) where 1=1 procedure …`: a WHERE with a tautology right after the literal, and more after. */
const WHERE_BREAKOUT = /^[s1]\)*k1./;

function isBreakout(fingerprint: string, sc: SqlScanner): boolean {
  const first = sc.tokens[0]!;
  const openedByContext = sc.quote !== '' && first.type === 's' && first.strOpen === '';
  if (openedByContext && STRING_BREAKOUT.test(fingerprint)) return true;
  if (openedByContext && COMMENT_BREAKOUT.test(fingerprint)) {
    const comment = sc.tokens[fingerprint.length - 1]!.val;
    return comment.startsWith('/*') || (comment.startsWith('--') && comment.slice(2).trim() === '');
  }
  if (first.type === '1' && NUMBER_BREAKOUT.test(fingerprint)) return true;
  const where = WHERE_BREAKOUT.exec(fingerprint);
  if (where !== null && (first.type === '1' || openedByContext)) {
    if (asciiUpper(sc.tokens[where[0].length - 3]!.val) === 'WHERE') return true;
  }
  const delay = DELAY_BREAKOUT.exec(fingerprint);
  if (delay !== null && (first.type === '1' || openedByContext)) {
    return asciiUpper(sc.tokens[delay[0].length - 1]!.val).startsWith('WAITFOR');
  }
  return false;
}

/** One context: the fingerprint if it is an injection. Leaves the scanner's statistics for the caller. */
function tryContext(s: string, quote: '' | "'" | '"', mysql: boolean): string | undefined {
  const { fingerprint, scanner: sc } = fingerprintOf(s, quote, mysql);
  return isInjection(fingerprint, sc) || isBreakout(fingerprint, sc) ? fingerprint : undefined;
}

/** A context in ANSI SQL, then in MySQL when a `#` or `--x` means MySQL may read the input differently. */
function tryDialects(s: string, quote: '' | "'" | '"'): string | undefined {
  const ansi = tryContext(s, quote, false);
  if (ansi !== undefined) return ansi;
  if (scanner.dashComments > 0 || scanner.hashes > 0) return tryContext(s, quote, true);
  return undefined;
}

/** The contexts libinjection tries, in order: as is, then inside single quotes, then inside double quotes. */
function detectRaw(s: string): string | undefined {
  if (s.length === 0) return undefined;
  const plain = tryDialects(s, '');
  if (plain !== undefined) return plain;
  if (s.includes("'")) {
    const single = tryDialects(s, "'");
    if (single !== undefined) return single;
  }
  if (s.includes('"')) return tryContext(s, '"', true);
  return undefined;
}

export interface SqliExplanation {
  match: boolean;
  /** The token fingerprint that matched, e.g. `s&sos` for `' or '1'='1`. */
  fingerprint?: string;
  /** The decoded value that matched: a query parameter's name, or the whole value. */
  param?: string;
  /** The decoded text that was tokenized. */
  input?: string;
}

/** Why `value` is (or is not) SQL injection: the fingerprint and the decoded candidate that matched. */
export function explainSqli(value: string): SqliExplanation {
  for (const candidate of inputCandidates(value)) {
    // A whole query string reads as SQL by construction (`name=value` is a comparison): the parameters are the unit.
    if (candidate.whole === true) continue;
    const fingerprint = detectRaw(candidate.text);
    if (fingerprint !== undefined) return { match: true, fingerprint, param: candidate.param, input: candidate.text };
  }
  return { match: false };
}

/** True when `value` (a query string, a parameter value, a path, any field) carries SQL injection. */
export function sqli(value: string): boolean {
  return explainSqli(value).match;
}

/** The fingerprint of `text` read as is (no decoding), for tests and debugging. */
export function sqliFingerprint(text: string, context: '' | "'" | '"' = '', mysql = false): string {
  return fingerprintOf(text, context, mysql).fingerprint;
}

/** libinjection's decision on already-decoded text (no URL decoding, no parameter splitting). */
export function sqliText(text: string): string | undefined {
  return detectRaw(text);
}
