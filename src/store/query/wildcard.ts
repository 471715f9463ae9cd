// Wildcard term values, shared by every engine: in a term with `wildcard: true`, `*` matches any run of characters,
// `?` one character, and `\` makes the next character literal (so `\*`, `\?`, `\\` are the literal characters).

/** A literal string as a wildcard pattern that matches only itself. */
export function escapeWildcard(literal: string): string {
  let out = '';
  for (const c of literal) out += c === '*' || c === '?' || c === '\\' ? `\\${c}` : c;
  return out;
}

/** Escapes SQL LIKE's own wildcards so `text` matches literally (use with `ESCAPE '\'`). */
export function escapeLike(text: string): string {
  let out = '';
  for (const c of text) out += c === '%' || c === '_' || c === '\\' ? `\\${c}` : c;
  return out;
}

/** A wildcard pattern as a SQL LIKE pattern with `ESCAPE '\'`: `*` → `%`, `?` → `_`, literal `%`/`_`/`\` escaped. */
export function wildcardToLike(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      // A trailing backslash has nothing to escape: it is itself literal.
      const next = i + 1 < pattern.length ? pattern[++i]! : '\\';
      out += escapeLike(next);
    } else if (c === '*') {
      out += '%';
    } else if (c === '?') {
      out += '_';
    } else {
      out += escapeLike(c);
    }
  }
  return out;
}
