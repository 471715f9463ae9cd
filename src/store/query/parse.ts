// Parses Vigil's Lucene/KQL-style query text into the QueryNode tree that engines compile.
// Precedence as in Lucene's classic query parser and KQL: NOT binds tightest, then AND (also implicit), then OR.
//
// Grammar (a hand-written recursive descent over characters: no regex sees the query, every step advances):
//   query    := or EOF
//   or       := and (('OR' | '||') and)*
//   and      := unary (('AND' | '&&')? unary)*
//   unary    := ('NOT' | '!' | '-') unary | primary
//   primary  := '(' or ')' | '"phrase"' | FIELD ':' value | FIELD cmp word | word
//   value    := '*' | '(' or ')' | range | cmp word | '"phrase"' | word      (inside, every term is FIELD's)
//   range    := ('[' | '{') bound 'TO' bound (']' | '}')                     (bound `*` is open)
//   cmp      := '>=' | '>' | '<=' | '<'
// Positions in error messages are 0-based offsets into the query text.
import { VigilError } from '../../core/errors.js';
import { parseCidr } from '../../core/ip.js';
import type { QueryNode } from './ast.js';

export const MAX_QUERY_BYTES = 8192;
export const MAX_QUERY_DEPTH = 64;

/** Characters a field name is made of: ECS dotted names plus `@` (`@timestamp`) and `-`. */
export function isFieldChar(c: string | undefined): boolean {
  if (c === undefined || c.length !== 1) return false;
  const code = c.charCodeAt(0);
  return (
    (code >= 97 && code <= 122) || // a-z
    (code >= 65 && code <= 90) || // A-Z
    (code >= 48 && code <= 57) || // 0-9
    c === '_' ||
    c === '@' ||
    c === '.' ||
    c === '-'
  );
}

/** Field names engines accept (the same set the parser reads): `^[A-Za-z0-9_@.\-]+$`. */
export function isValidFieldName(name: string): boolean {
  if (name.length === 0 || name.length > 256) return false;
  for (let i = 0; i < name.length; i++) if (!isFieldChar(name[i])) return false;
  return true;
}

export function isQuerySpace(c: string | undefined): boolean {
  return (
    c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\u3000'
  );
}

type Keyword = 'and' | 'or' | 'not';

interface Word {
  /** The text with escapes resolved. */
  value: string;
  /** The text as a wildcard pattern: unescaped `*`/`?` kept, literal `*`, `?`, `\` escaped. */
  pattern: string;
  wildcard: boolean;
  escaped: boolean;
  /** True when the word is exactly one unescaped `*`. */
  star: boolean;
}

class QueryParser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  parse(): QueryNode {
    const node = this.parseOr(null);
    this.skipSpace();
    if (this.pos < this.text.length) {
      // parseOr stops only at the end or at a ')' it cannot match.
      throw this.error(`unexpected ')' with no '(' to close`, this.pos);
    }
    return node;
  }

  private error(message: string, position: number): VigilError {
    return new VigilError('bad_query', message, { location: `position ${position}` });
  }

  private enter(position: number): void {
    this.depth++;
    if (this.depth > MAX_QUERY_DEPTH) {
      throw this.error(`query nests deeper than ${MAX_QUERY_DEPTH} levels of parentheses and NOTs`, position);
    }
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && isQuerySpace(this.text[this.pos])) this.pos++;
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** A keyword is a whole unescaped word: `AND` followed by a space, a bracket, a quote or the end. */
  private keywordAt(position: number): { keyword: Keyword; length: number } | undefined {
    const t = this.text;
    const c = t[position];
    if (c === '&' && t[position + 1] === '&') return { keyword: 'and', length: 2 };
    if (c === '|' && t[position + 1] === '|') return { keyword: 'or', length: 2 };
    for (const keyword of ['and', 'or', 'not'] as const) {
      const end = position + keyword.length;
      if (t.slice(position, end).toLowerCase() !== keyword) continue;
      const after = t[end];
      if (after === undefined || isQuerySpace(after) || after === '(' || after === ')' || after === '"') {
        return { keyword, length: keyword.length };
      }
    }
    return undefined;
  }

  private parseOr(field: string | null): QueryNode {
    const children = [this.parseAnd(field)];
    for (;;) {
      this.skipSpace();
      const kw = this.keywordAt(this.pos);
      if (kw?.keyword !== 'or') break;
      const at = this.pos;
      this.pos += kw.length;
      this.expectTermAfter(this.text.slice(at, at + kw.length), at);
      children.push(this.parseAnd(field));
    }
    return children.length === 1 ? children[0]! : { type: 'or', children };
  }

  private parseAnd(field: string | null): QueryNode {
    const children = [this.parseUnary(field)];
    for (;;) {
      this.skipSpace();
      if (this.atEnd() || this.text[this.pos] === ')') break;
      const kw = this.keywordAt(this.pos);
      if (kw?.keyword === 'or') break;
      if (kw?.keyword === 'and') {
        const at = this.pos;
        this.pos += kw.length;
        this.expectTermAfter(this.text.slice(at, at + kw.length), at);
      }
      children.push(this.parseUnary(field));
    }
    return children.length === 1 ? children[0]! : { type: 'and', children };
  }

  /** After an operator there must be a term, not the end, a ')' or another binary operator. */
  private expectTermAfter(operator: string, at: number): void {
    this.skipSpace();
    const kw = this.atEnd() ? undefined : this.keywordAt(this.pos);
    if (this.atEnd() || this.text[this.pos] === ')' || kw?.keyword === 'and' || kw?.keyword === 'or') {
      throw this.error(`expected a term after '${operator}' at position ${at}`, this.pos);
    }
  }

  private parseUnary(field: string | null): QueryNode {
    this.skipSpace();
    const at = this.pos;
    const c = this.text[at];
    const kw = this.keywordAt(at);
    let length = 0;
    if (kw?.keyword === 'not') length = kw.length;
    else if (c === '!' || c === '-') length = 1;
    if (length > 0) {
      this.pos += length;
      this.expectTermAfter(this.text.slice(at, at + length), at);
      this.enter(at);
      const child = this.parseUnary(field);
      this.depth--;
      return { type: 'not', child };
    }
    return this.parsePrimary(field);
  }

  private parsePrimary(field: string | null): QueryNode {
    this.skipSpace();
    const t = this.text;
    const at = this.pos;
    const c = t[at];
    if (c === undefined) throw this.error('expected a term', at);
    if (c === ')') throw this.error(`unexpected ')' with no '(' to close`, at);
    const kw = this.keywordAt(at);
    if (kw?.keyword === 'and' || kw?.keyword === 'or') {
      throw this.error(`expected a term before '${t.slice(at, at + kw.length)}'`, at);
    }
    if (c === '(') return this.parseGroup(field);
    if (c === '"') return this.termNode(field, this.readPhrase(), true);
    if (field !== null) {
      // Inside `field:( … )` every word is a value of that field, so unquoted IPv6 works there too, and so do
      // comparisons and ranges as in `status:(>=500 OR [400 TO 403])`.
      if (c === '<' || c === '>') return this.parseComparison(field);
      if (c === '[' || c === '{') return this.parseRange(field);
      const word = this.readWord(false);
      return word.star ? { type: 'exists', field } : this.termNode(field, word, false);
    }

    // FIELD ':' value, or FIELD cmp value (KQL allows spaces before the operator: `status >= 500`).
    let end = at;
    while (isFieldChar(t[end])) end++;
    if (end > at) {
      if (t[end] === ':') {
        this.pos = end + 1;
        return this.parseFieldValue(t.slice(at, end), at);
      }
      let look = end;
      while (isQuerySpace(t[look])) look++;
      if (t[look] === '<' || t[look] === '>') {
        this.pos = look;
        return this.parseComparison(t.slice(at, end));
      }
    }
    const word = this.readWord(false);
    if (word.star) return { type: 'all' };
    return this.termNode(null, word, false);
  }

  private parseGroup(field: string | null): QueryNode {
    const open = this.pos;
    this.enter(open);
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ')') throw this.error(`empty parentheses opened at position ${open}`, this.pos);
    if (this.atEnd()) throw this.error(`expected ')' to close '(' opened at position ${open}`, this.pos);
    const node = this.parseOr(field);
    this.skipSpace();
    if (this.text[this.pos] !== ')') throw this.error(`expected ')' to close '(' opened at position ${open}`, this.pos);
    this.pos++;
    this.depth--;
    return node;
  }

  private parseFieldValue(field: string, fieldAt: number): QueryNode {
    const colonAt = this.pos;
    this.skipSpace();
    const t = this.text;
    const c = t[this.pos];
    if (c === undefined || c === ')') {
      throw this.error(`expected a value after '${field}:' (write ${field}:* to ask whether the field exists)`, this.pos);
    }
    if (c === '(') return this.parseGroup(field);
    if (c === '[' || c === '{') return this.parseRange(field);
    if (c === '<' || c === '>') return this.parseComparison(field);
    if (c === '"') return this.termNode(field, this.readPhrase(), true);
    // Right after the colon any word is a value (`action:not`); after `field: ` an operator is a mistake.
    const kw = this.pos > colonAt ? this.keywordAt(this.pos) : undefined;
    if (kw !== undefined) {
      throw this.error(
        `expected a value after '${field}:' at position ${fieldAt}, found '${t.slice(this.pos, this.pos + kw.length)}'`,
        this.pos,
      );
    }
    const word = this.readWord(false);
    if (word.star) return { type: 'exists', field };
    return this.termNode(field, word, false);
  }

  /** `field>=value`, `field > value`, `field:<value`. */
  private parseComparison(field: string): QueryNode {
    const t = this.text;
    const at = this.pos;
    let op = t[at]!;
    this.pos++;
    if (t[this.pos] === '=') {
      op += '=';
      this.pos++;
    }
    this.skipSpace();
    const c = t[this.pos];
    if (c === undefined || c === ')' || c === '(') throw this.error(`expected a value after '${field}${op}'`, this.pos);
    const valueAt = this.pos;
    const word = c === '"' ? this.readPhrase() : this.readWord(false);
    if (word.star) throw this.error(`'${field}${op}*' compares with nothing: give a value, or use ${field}:* for "exists"`, valueAt);
    if (word.value.length === 0) throw this.error(`expected a value after '${field}${op}'`, valueAt);
    switch (op) {
      case '>':
        return { type: 'range', field, gt: word.value };
      case '>=':
        return { type: 'range', field, gte: word.value };
      case '<':
        return { type: 'range', field, lt: word.value };
      default:
        return { type: 'range', field, lte: word.value };
    }
  }

  /** `[a TO b]` inclusive, `{a TO b}` exclusive, mixed `[a TO b}`; `*` leaves an end open. */
  private parseRange(field: string): QueryNode {
    const t = this.text;
    const open = this.pos;
    const lowInclusive = t[open] === '[';
    this.pos++;
    this.skipSpace();
    const low = this.readBound(open);
    this.skipSpace();
    const toAt = this.pos;
    if (t.slice(toAt, toAt + 2).toLowerCase() !== 'to' || !isQuerySpace(t[toAt + 2])) {
      throw this.error(`expected 'TO' in the range opened at position ${open} (ranges look like ${field}:[1 TO 5])`, toAt);
    }
    this.pos += 2;
    this.skipSpace();
    const high = this.readBound(open);
    this.skipSpace();
    const close = t[this.pos];
    if (close !== ']' && close !== '}') {
      throw this.error(`expected ']' or '}' to close the range opened at position ${open}`, this.pos);
    }
    this.pos++;
    const node: QueryNode & { type: 'range' } = { type: 'range', field };
    if (low !== undefined) {
      if (lowInclusive) node.gte = low;
      else node.gt = low;
    }
    if (high !== undefined) {
      if (close === ']') node.lte = high;
      else node.lt = high;
    }
    if (low === undefined && high === undefined) return { type: 'exists', field };
    return node;
  }

  /** A range bound: a phrase or a word up to a space, `]` or `}`; an unescaped `*` is an open end (undefined). */
  private readBound(open: number): string | undefined {
    const c = this.text[this.pos];
    if (c === undefined || c === ']' || c === '}' || c === '(' || c === ')') {
      throw this.error(`expected a bound in the range opened at position ${open}`, this.pos);
    }
    const word = c === '"' ? this.readPhrase() : this.readWord(true);
    if (word.star) return undefined;
    return word.value;
  }

  /** `"..."` with `\` escaping the next character (`\"`, `\\`). */
  private readPhrase(): Word {
    const t = this.text;
    const open = this.pos;
    this.pos++;
    let value = '';
    let escaped = false;
    for (;;) {
      const c = t[this.pos];
      if (c === undefined) throw this.error(`expected '"' to close the phrase opened at position ${open}`, this.pos);
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c === '\\') {
        const next = t[this.pos + 1];
        if (next === undefined) throw this.error(`expected '"' to close the phrase opened at position ${open}`, this.pos + 1);
        value += next;
        escaped = true;
        this.pos += 2;
        continue;
      }
      value += c;
      this.pos++;
    }
    return { value, pattern: value, wildcard: false, escaped, star: false };
  }

  /** An unquoted word up to a space or a bracket (in a range bound, up to `]`/`}`); `\` escapes anything. */
  private readWord(inRange: boolean): Word {
    const t = this.text;
    const start = this.pos;
    let value = '';
    let pattern = '';
    let wildcard = false;
    let escaped = false;
    for (;;) {
      const c = t[this.pos];
      if (c === undefined || isQuerySpace(c) || c === '(' || c === ')') break;
      if (inRange && (c === ']' || c === '}')) break;
      if (c === '\\') {
        const next = t[this.pos + 1];
        if (next === undefined) throw this.error(`a '\\' at the end of the query escapes nothing (write '\\\\' for a backslash)`, this.pos);
        value += next;
        pattern += next === '*' || next === '?' || next === '\\' ? `\\${next}` : next;
        escaped = true;
        this.pos += 2;
        continue;
      }
      if (c === '*' || c === '?') wildcard = true;
      value += c;
      pattern += c;
      this.pos++;
    }
    if (this.pos === start) throw this.error(`expected a term`, start);
    const star = !escaped && value === '*';
    return { value, pattern, wildcard, escaped, star };
  }

  private termNode(field: string | null, word: Word, phrase: boolean): QueryNode {
    // An unescaped CIDR block on a field is a network test; `\/` or a bare word keeps it as text.
    if (field !== null && !word.escaped && !word.wildcard && word.value.includes('/') && parseCidr(word.value) !== undefined) {
      return { type: 'cidr', field, cidr: word.value };
    }
    if (word.wildcard) return { type: 'term', field, value: word.pattern, phrase, wildcard: true };
    return { type: 'term', field, value: word.value, phrase, wildcard: false };
  }
}

/**
 * Parses query text; empty or blank text is `{ type: 'all' }`.
 * Throws `VigilError('bad_query')` with a `position N` location for text it cannot read.
 */
export function parseQuery(text: string): QueryNode {
  if (text.length > MAX_QUERY_BYTES || Buffer.byteLength(text, 'utf8') > MAX_QUERY_BYTES) {
    throw new VigilError('bad_query', `query is longer than ${MAX_QUERY_BYTES / 1024} KiB`, {
      location: `position ${MAX_QUERY_BYTES}`,
    });
  }
  let blank = true;
  for (let i = 0; i < text.length && blank; i++) if (!isQuerySpace(text[i])) blank = false;
  if (blank) return { type: 'all' };
  return new QueryParser(text).parse();
}
