// Path traversal: `../` and `..\` segments that climb out of a directory, in any encoding attackers use — percent
// (once or several times: `%2e%2e%2f`, `%252e%252e%252f`), IIS `%u002e`, overlong UTF-8 (`%c0%ae`, `%c0%af`,
// `%e0%80%ae`), Unicode look-alike dots and slashes, and the `..;/` path-parameter trick of Java servers.
import { percentDecode, unescapeLog } from './decode.js';

/**
 * Overlong and look-alike encodings of `.`, `/` and `\` that lax decoders (old IIS, some Java and PHP stacks) turn
 * into the real character (Unicode Technical Report #36 §3.1 on overlong UTF-8). Keys are Latin-1 byte strings
 * as percent-decoding produces them, or single look-alike characters.
 */
const LOOKALIKES: Array<[string, string]> = [
  ['\u00c0\u00ae', '.'], ['\u00e0\u0080\u00ae', '.'], ['\u00c0\u002e', '.'], ['\u00f0\u0080\u0080\u00ae', '.'],
  ['\u00c0\u00af', '/'], ['\u00e0\u0080\u00af', '/'], ['\u00c0\u002f', '/'], ['\u00f0\u0080\u0080\u00af', '/'],
  ['\u00c1\u009c', '\\'], ['\u00c1\u001c', '\\'],
  ['\uff0e', '.'], ['\u2024', '.'], ['\uff0f', '/'], ['\u2215', '/'], ['\u2044', '/'], ['\uff3c', '\\'], ['\u2216', '\\'],
];

/** Decodes everything that could hide a dot or a separator, in one linear pass per substitution. */
export function normalizePath(value: string): string {
  let s = percentDecode(unescapeLog(value));
  if (/[\u00c0-\u00f0\u2024\u2044\u2215\u2216\uff0e\uff0f\uff3c]/.test(s)) {
    for (const [from, to] of LOOKALIKES) s = s.replaceAll(from, to);
  }
  return s;
}

function isSeparator(c: number): boolean {
  return c === 47 || c === 92;
}

/**
 * Finds a dot-dot segment: two or more dots, at the start of the value or after a separator, `=`, `:` or a space,
 * followed
 * by a separator (optionally after `;…`, which Tomcat and Jetty drop) or by the end of a path segment list.
 * Returns the index of the first dot, or -1.
 */
export function findDotDot(s: string): number {
  const n = s.length;
  let i = s.indexOf('..');
  while (i >= 0) {
    const before = i === 0 ? -1 : s.charCodeAt(i - 1);
    const boundary = before === -1 || isSeparator(before) || before === 61 || before === 58 || before === 32;
    let j = i;
    while (j < n && s.charCodeAt(j) === 46) j++;
    if (boundary) {
      // `..;jsessionid=x/` is `../` to Tomcat.
      let k = j;
      if (k < n && s.charCodeAt(k) === 59) {
        while (k < n && !isSeparator(s.charCodeAt(k)) && k - j < 64) k++;
      }
      if (k < n && isSeparator(s.charCodeAt(k))) return i;
      // A trailing `/..` climbs too (`/static/..`).
      if (j === n && j - i === 2 && before !== -1 && isSeparator(before)) return i;
    }
    i = s.indexOf('..', j);
  }
  return -1;
}

export interface TraversalExplanation {
  match: boolean;
  /** The decoded text around the dot-dot segment. */
  evidence?: string;
}

export function explainTraversal(value: string): TraversalExplanation {
  const s = normalizePath(value);
  const at = findDotDot(s);
  if (at < 0) return { match: false };
  return { match: true, evidence: s.slice(Math.max(0, at - 16), at + 32) };
}

/** True when `value` (a path, a query string or a parameter) climbs out of a directory with `..`. */
export function traversal(value: string): boolean {
  return findDotDot(normalizePath(value)) >= 0;
}
