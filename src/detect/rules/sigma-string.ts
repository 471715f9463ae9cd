// Sigma string values: `*` and `?` wildcards with `\` escaping (Sigma rules specification v2, "Escaping"), and a
// matcher for them that never builds a regular expression: literal runs are found with indexOf, so matching is
// polynomial in the input whatever the pattern (no backtracking blow-up on attacker-controlled text).

/** One piece of a Sigma string: literal text, `*` (any run of characters) or `?` (exactly one character). */
export type Part = string | typeof STAR | typeof ONE;
export const STAR = 0;
export const ONE = 1;

/** A parsed Sigma string: literal text runs and wildcards, adjacent texts merged. */
export class SigmaString {
  constructor(readonly parts: readonly Part[]) {}

  /**
   * Parses a rule value: `\*`, `\?` and `\\` are the plain characters; a backslash before anything else is a
   * plain backslash (so `C:\Windows\` needs no escaping, and `\\\\` is two backslashes).
   */
  static parse(text: string): SigmaString {
    const parts: Part[] = [];
    let literal = '';
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\\') {
        const next = text[i + 1];
        if (next === '*' || next === '?' || next === '\\') {
          literal += next;
          i++;
        } else {
          literal += '\\';
        }
      } else if (c === '*' || c === '?') {
        if (literal.length > 0) parts.push(literal);
        literal = '';
        // `**` is the same as `*`.
        if (!(c === '*' && parts[parts.length - 1] === STAR)) parts.push(c === '*' ? STAR : ONE);
      } else {
        literal += c;
      }
    }
    if (literal.length > 0) parts.push(literal);
    return new SigmaString(parts);
  }

  static literal(text: string): SigmaString {
    return new SigmaString(text.length > 0 ? [text] : []);
  }

  get hasWildcards(): boolean {
    return this.parts.some((p) => typeof p !== 'string');
  }

  /** The text when there is no wildcard. */
  get plain(): string | undefined {
    if (this.hasWildcards) return undefined;
    return this.parts.join('');
  }

  startsWithStar(): boolean {
    return this.parts[0] === STAR;
  }

  endsWithStar(): boolean {
    return this.parts[this.parts.length - 1] === STAR;
  }

  prepend(part: Part): SigmaString {
    if (part === STAR && this.startsWithStar()) return this;
    return new SigmaString([part, ...this.parts]);
  }

  append(part: Part): SigmaString {
    if (part === STAR && this.endsWithStar()) return this;
    return new SigmaString([...this.parts, part]);
  }

  /** Maps each literal run (wildcards kept). */
  mapText(fn: (text: string) => string): SigmaString {
    return new SigmaString(this.parts.map((p) => (typeof p === 'string' ? fn(p) : p)));
  }

  /** The rule-author form, with wildcards and escapes, for reasons shown to people. */
  toString(): string {
    return this.parts.map((p) => (p === STAR ? '*' : p === ONE ? '?' : p.replace(/[\\*?]/g, (c) => `\\${c}`))).join('');
  }
}

/** How a compiled pattern is tested; the engine picks the cheapest form that says the same. */
export type PatternShape =
  | { kind: 'equals'; text: string }
  | { kind: 'startswith'; text: string }
  | { kind: 'endswith'; text: string }
  | { kind: 'contains'; text: string }
  | { kind: 'any' }
  | { kind: 'glob'; glob: Glob };

/** Classifies a Sigma string, its literal text lowered when matching is case-insensitive. */
export function shapeOf(value: SigmaString, lower: boolean): PatternShape {
  const parts = lower ? value.mapText((t) => t.toLowerCase()).parts : value.parts;
  const stars = parts.filter((p) => p === STAR).length;
  const ones = parts.filter((p) => p === ONE).length;
  const texts = parts.filter((p): p is string => typeof p === 'string');
  if (ones === 0) {
    if (stars === 0) return { kind: 'equals', text: texts.join('') };
    if (texts.length === 0) return { kind: 'any' };
    if (texts.length === 1) {
      const text = texts[0]!;
      if (parts.length === 2 && parts[1] === STAR) return { kind: 'startswith', text };
      if (parts.length === 2 && parts[0] === STAR) return { kind: 'endswith', text };
      if (parts.length === 3) return { kind: 'contains', text };
    }
  }
  return { kind: 'glob', glob: new Glob(parts) };
}

/**
 * A wildcard pattern split at `*` into segments (each a run of characters where `?` matches any one). The first
 * segment is anchored at the start and the last at the end unless a `*` stands there; the segments between are
 * found leftmost-first, which is enough for `*`-separated patterns (a later match can only leave less room).
 * Cost is at most input length × pattern length: no backtracking across segments. Works on UTF-16 code units
 * (`?` is one code unit; a character outside the Basic Multilingual Plane is two).
 */
export class Glob {
  /** Segment texts, a placeholder character where a `?` stands. */
  private readonly segments: string[] = [];
  /** Per segment, the positions of its `?` (undefined: none). */
  private readonly anyOne: (Uint8Array | undefined)[] = [];
  private readonly anchoredStart: boolean;
  private readonly anchoredEnd: boolean;
  private readonly minLength: number;
  /** The longest literal run without `?`, which any match contains (a cheap prefilter). */
  readonly longestLiteral: string;

  constructor(parts: readonly Part[]) {
    let current = '';
    let ones: number[] = [];
    let longest = '';
    const close = (): void => {
      this.segments.push(current);
      if (ones.length === 0) this.anyOne.push(undefined);
      else {
        const mask = new Uint8Array(current.length);
        for (const i of ones) mask[i] = 1;
        this.anyOne.push(mask);
      }
      current = '';
      ones = [];
    };
    this.anchoredStart = parts[0] !== STAR;
    this.anchoredEnd = parts[parts.length - 1] !== STAR;
    for (const part of parts) {
      if (part === STAR) {
        close();
      } else if (part === ONE) {
        ones.push(current.length);
        current += '?';
      } else {
        current += part;
        if (part.length > longest.length) longest = part;
      }
    }
    close();
    this.minLength = this.segments.reduce((n, s) => n + s.length, 0);
    this.longestLiteral = longest;
  }

  /** True when `text` (already lowered if the pattern was) matches the whole pattern. */
  test(text: string): boolean {
    if (text.length < this.minLength) return false;
    const segs = this.segments;
    const last = segs.length - 1;
    if (last === 0) return text.length === segs[0]!.length && this.at(text, 0, 0);
    let from = 0;
    let end = text.length;
    if (this.anchoredStart) {
      if (!this.at(text, 0, 0)) return false;
      from = segs[0]!.length;
    }
    if (this.anchoredEnd) {
      const at = text.length - segs[last]!.length;
      if (at < from || !this.at(text, at, last)) return false;
      end = at;
    }
    const innerTo = this.anchoredEnd ? last : last + 1;
    for (let s = this.anchoredStart ? 1 : 0; s < innerTo; s++) {
      const seg = segs[s]!;
      if (seg.length === 0) continue;
      let found = -1;
      if (!this.anyOne[s]) {
        found = text.indexOf(seg, from);
        if (found + seg.length > end) found = -1;
      } else {
        for (let i = from; i + seg.length <= end; i++) {
          if (this.at(text, i, s)) {
            found = i;
            break;
          }
        }
      }
      if (found < 0) return false;
      from = found + seg.length;
    }
    return true;
  }

  /** Segment `s` at position `at` of `text`. */
  private at(text: string, at: number, s: number): boolean {
    const seg = this.segments[s]!;
    const mask = this.anyOne[s];
    if (!mask) return text.startsWith(seg, at);
    if (at + seg.length > text.length) return false;
    for (let j = 0; j < seg.length; j++) if (mask[j] === 0 && text.charCodeAt(at + j) !== seg.charCodeAt(j)) return false;
    return true;
  }
}
