// User names from uids, read from /etc/passwd (passwd(5)): enough for local accounts; a uid with no local entry
// (LDAP, a container's) keeps only `user.id`. Re-read when the file changes, checked at most every few seconds.
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tryReadUtf8 } from './proc.js';

const CHECK_EVERY_MS = 5000;

export class UserNames {
  private names = new Map<number, string>();
  private mtimeMs = -1;
  private checkedAt = -Infinity;

  constructor(private readonly passwdPath = '/etc/passwd') {}

  lookup(uid: number): string | undefined {
    this.refresh();
    return this.names.get(uid);
  }

  private refresh(): void {
    const now = performance.now();
    if (now - this.checkedAt < CHECK_EVERY_MS) return;
    this.checkedAt = now;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.passwdPath).mtimeMs;
    } catch {
      return;
    }
    if (mtimeMs === this.mtimeMs) return;
    this.mtimeMs = mtimeMs;
    this.names = parsePasswd(tryReadUtf8(this.passwdPath) ?? '');
  }
}

/** `name:password:uid:gid:gecos:home:shell` lines; the first entry of a uid wins (as getpwuid(3) does). */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    const uid = Number(f[2]);
    if (Number.isInteger(uid) && f[0] && !names.has(uid)) names.set(uid, f[0]);
  }
  return names;
}
