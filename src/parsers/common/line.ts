// Line clean-up shared by every parser: CRLF files, and scanner logs that wrap each line in an extra pair of quotes.

/** Drops a trailing `\r` (and `\n`, should a caller leave one). */
export function stripLineEnd(line: string): string {
  let end = line.length;
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c !== 13 && c !== 10) break;
    end--;
  }
  return end === line.length ? line : line.slice(0, end);
}

/**
 * Removes an extra pair of double quotes around a whole line: `"192.0.2.1 - - [..] "GET / HTTP/1.1" 200 1 "-" "UA""`.
 * Only when the inner text itself holds a quote, so that an ordinary quoted field is not touched.
 */
export function unwrapQuotes(line: string): string {
  const n = line.length;
  if (n < 3 || line.charCodeAt(0) !== 34 || line.charCodeAt(n - 1) !== 34) return line;
  // `""` would be an empty quoted field, not a wrapped line.
  if (line.charCodeAt(1) === 34) return line;
  const inner = line.slice(1, -1);
  return inner.indexOf('"') >= 0 ? inner : line;
}

/** The clean-up every text parser applies before reading a line. */
export function prepareLine(line: string): string {
  return unwrapQuotes(stripLineEnd(line));
}
