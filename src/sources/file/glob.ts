// Wildcards in the last component of a tailed path (`/var/log/nginx/access.log*`): `*` is any run of
// characters, `?` one character, as in POSIX shell patterns (without brackets), compiled once at load time.
import { basename, dirname } from 'node:path';

export interface PathPattern {
  /** The directory to list (no wildcards allowed there). */
  dir: string;
  /** Whether a directory entry's name matches; undefined when the path has no wildcard. */
  matches: ((name: string) => boolean) | undefined;
}

/** Suffixes of compressed rotations (`access.log.2.gz`): their bytes are not lines and they never grow. */
const COMPRESSED = ['.gz', '.bz2', '.xz', '.zst', '.lz4', '.zip', '.Z'];

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

/** Splits an absolute path into its directory and a matcher for the last component; undefined if a directory has wildcards. */
export function compilePathPattern(path: string): PathPattern | undefined {
  const dir = dirname(path);
  if (hasWildcard(dir)) return undefined;
  const name = basename(path);
  if (!hasWildcard(name)) return { dir, matches: undefined };
  const pattern = Array.from(name);
  const skipCompressed = !COMPRESSED.some((suffix) => name.endsWith(suffix));
  return {
    dir,
    matches: (candidate) => {
      if (skipCompressed && COMPRESSED.some((suffix) => candidate.endsWith(suffix))) return false;
      // Like the shell, a wildcard does not match the leading dot of a hidden file.
      if (candidate.startsWith('.') && pattern[0] !== '.') return false;
      return wildcardMatch(pattern, Array.from(candidate));
    },
  };
}

/**
 * Matches `*` and `?` without a regex and without exponential backtracking: on a mismatch only the
 * most recent `*` is widened, so the work is at most |pattern| x |name| steps.
 */
export function wildcardMatch(pattern: readonly string[], name: readonly string[]): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let starN = 0;
  while (n < name.length) {
    const pc = pattern[p];
    if (pc === '*') {
      star = p++;
      starN = n;
    } else if (pc !== undefined && (pc === '?' || pc === name[n])) {
      p++;
      n++;
    } else if (star >= 0) {
      p = star + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
