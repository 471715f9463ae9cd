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
 * Cost is at most input length × pattern length: no backtracking across segments.
 */
export class Glob {
  private readonly segments: string[][] = [];
  private readonly anchoredStart: boolean;
  private readonly anchoredEnd: boolean;
  private readonly minLength: number;

  constructor(parts: readonly Part[]) {
    let current: string[] = [];
    this.anchoredStart = parts[0] !== STAR;
    this.anchoredEnd = parts[parts.length - 1] !== STAR;
    for (const part of parts) {
      if (part === STAR) {
        this.segments.push(current);
        current = [];
      } else if (part === ONE) {
        current.push('');
      } else {
        for (const ch of part) current.push(ch);
      }
    }
    this.segments.push(current);
    this.minLength = this.segments.reduce((n, s) => n + s.length, 0);
  }

  /** True when `text` (already lowered if the pattern was) matches the whole pattern. */
  test(text: string): boolean {
    const chars = Array.from(text);
    if (chars.length < this.minLength) return false;
    const segs = this.segments;
    if (segs.length === 1) return chars.length === segs[0]!.length && matchAt(chars, 0, segs[0]!);
    let from = 0;
    let end = chars.length;
    const first = segs[0]!;
    if (this.anchoredStart) {
      if (!matchAt(chars, 0, first)) return false;
      from = first.length;
    }
    const last = segs[segs.length - 1]!;
    if (this.anchoredEnd) {
      const at = chars.length - last.length;
      if (at < from || !matchAt(chars, at, last)) return false;
      end = at;
    }
    const innerFrom = this.anchoredStart ? 1 : 0;
    const innerTo = this.anchoredEnd ? segs.length - 1 : segs.length;
    for (let s = innerFrom; s < innerTo; s++) {
      const seg = segs[s]!;
      if (seg.length === 0) continue;
      let found = -1;
      for (let i = from; i + seg.length <= end; i++) {
        if (matchAt(chars, i, seg)) {
          found = i;
          break;
        }
      }
      if (found < 0) return false;
      from = found + seg.length;
    }
    return true;
  }
}

/** `seg` at `at`: an empty string in `seg` stands for `?` (any one character). */
function matchAt(chars: readonly string[], at: number, seg: readonly string[]): boolean {
  for (let j = 0; j < seg.length; j++) {
    const want = seg[j]!;
    if (want !== '' && chars[at + j] !== want) return false;
  }
  return true;
}
