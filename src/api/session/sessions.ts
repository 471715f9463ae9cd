// Browser sessions for the dashboard: an opaque id in an HttpOnly, SameSite=Strict cookie, a CSRF token per session
// (sent back in a header on every state change), idle and absolute expiry, and a brake on password guessing.
// Sessions are kept in `sessions.json` in the data dir, by the SHA-256 of their id only, so a restart logs nobody out
// and the file gives no one a usable session.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { VigilError } from '../../core/errors.js';
import type { Credentials, Principal, Role } from '../auth/credentials.js';
import { DEFAULT_LOCKOUT, LoginGuard } from '../auth/lockout.js';

export const SESSION_COOKIE = 'vigil_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionOptions {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after login, used or not. */
  maxAgeMs: number;
  /** Wall-clock time (sessions expire in real time, not event time). */
  now?: () => number;
  /** Where sessions outlive a restart; without it they live in memory only. */
  file?: string;
  /** How often `lastSeen` changes are written (login and logout are written at once). Default 60 s. */
  flushMs?: number;
  /** Failed-login lockout (shared with HTTP Basic); default: the default policy, in memory. */
  guard?: LoginGuard;
}

export interface Session {
  user: string;
  csrf: string;
  created: number;
  lastSeen: number;
  /** A digest of the user's password hash at login: a password change ends the user's sessions. */
  password: string;
}

/** One line of sessions.json: the session without its CSRF token, which is derived from the id (not stored). */
interface StoredSession {
  key: string;
  user: string;
  created: number;
  last_seen: number;
  password: string;
}

interface SessionsFile {
  version: 1;
  sessions: StoredSession[];
}

const MAX_SESSIONS = 10_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The value of one cookie from a Cookie header (RFC 6265 §5.4), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (typeof header !== 'string' || header.length > 16_384) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The CSRF token of a session: derived from its secret id, so the file on disk holds neither. */
function csrfFor(id: string): string {
  return createHash('sha256').update(`vigil csrf\n${id}`).digest('base64url');
}

/** A short digest of a stored password hash, to notice a password change without keeping the hash itself. */
function passwordMark(hash: string): string {
  return createHash('sha256').update(hash).digest('hex').slice(0, 32);
}

function equalSecrets(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

export class SessionStore {
  /** Keyed by the SHA-256 of the cookie value, so a heap dump does not hold usable session ids. */
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  readonly guard: LoginGuard;

  constructor(
    private readonly credentials: Credentials,
    private readonly options: SessionOptions,
  ) {
    this.now = options.now ?? Date.now;
    const now = this.now;
    this.guard = options.guard ?? new LoginGuard({ policy: DEFAULT_LOCKOUT, clock: { now } });
    if (options.file) {
      this.load(options.file);
      this.timer = setInterval(() => this.flush(), options.flushMs ?? 60_000);
      this.timer.unref();
    }
  }

  /** Reads the sessions kept by the last run; a missing or unreadable file means nobody is logged in. */
  private load(file: string): void {
    let parsed: SessionsFile;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as SessionsFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') console.error(`vigil: ${file} cannot be read (${(err as Error).message}); everyone logs in again`);
      return;
    }
    const now = this.now();
    for (const s of Array.isArray(parsed?.sessions) ? parsed.sessions : []) {
      if (typeof s?.key !== 'string' || !/^[0-9a-f]{64}$/.test(s.key) || typeof s.user !== 'string') continue;
      if (typeof s.created !== 'number' || typeof s.last_seen !== 'number' || typeof s.password !== 'string') continue;
      if (this.expired({ created: s.created, lastSeen: s.last_seen }, now)) continue;
      // The CSRF token is filled in when the session's id is next presented (get()).
      this.sessions.set(s.key, { user: s.user, csrf: '', created: s.created, lastSeen: s.last_seen, password: s.password });
    }
  }

  /** Writes every live session (atomically: a crash leaves the old file or the new one, never half of one). */
  private save(): void {
    const file = this.options.file;
    if (!file) return;
    this.dirty = false;
    const body: SessionsFile = {
      version: 1,
      sessions: [...this.sessions].map(([key, s]) => ({ key, user: s.user, created: s.created, last_seen: s.lastSeen, password: s.password })),
    };
    try {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(body) + '\n', { mode: 0o600 });
      const fd = openSync(tmp, 'r');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, file);
    } catch (err) {
      // Sessions still work from memory; the next change tries again.
      this.dirty = true;
      console.error(`vigil: could not write ${file}: ${(err as Error).message}`);
    }
  }

  /** Writes pending changes (last-seen times, expiries). */
  flush(): void {
    if (this.dirty) this.save();
  }

  /** Writes what is pending and stops the timer (server shutdown). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private expired(s: { created: number; lastSeen: number }, now: number): boolean {
    return now - s.lastSeen > this.options.idleMs || now - s.created > this.options.maxAgeMs;
  }

  private static key(id: string): string {
    return createHash('sha256').update(id).digest('hex');
  }

  /** Checks a user's password under the lockout policy; answers the new session's cookie value and the session, or throws 401/423/429. */
  login(user: string, password: string, client: string): { id: string; session: Session; principal: Principal } {
    const found = this.guard.attempt(user, client, 'dashboard', () => this.credentials.checkPassword(user, password));
    const principal: Principal = { kind: 'user', name: found.name, role: found.role as Role };
    const now = this.now();
    this.sweep(now);
    const id = randomBytes(32).toString('base64url');
    const session: Session = { user: principal.name, csrf: csrfFor(id), created: now, lastSeen: now, password: passwordMark(this.credentials.findUser(principal.name)?.password ?? '') };
    this.sessions.set(SessionStore.key(id), session);
    this.save();
    return { id, session, principal };
  }

  /** Ends a session for good: written at once, so a restart right after does not bring it back. */
  logout(id: string): void {
    if (this.sessions.delete(SessionStore.key(id))) this.save();
  }

  /** The live session a cookie value names, refreshed; undefined when unknown or expired. */
  get(id: string): Session | undefined {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(id)) return undefined;
    const key = SessionStore.key(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    const now = this.now();
    if (this.expired(session, now)) {
      this.sessions.delete(key);
      this.dirty = true;
      return undefined;
    }
    session.lastSeen = now;
    session.csrf ||= csrfFor(id);
    this.dirty = true;
    return session;
  }

  /** The user behind a session, as the credentials file has them now: a removed or disabled user's session ends. */
  principalOf(id: string): { principal: Principal; session: Session } | undefined {
    const session = this.get(id);
    if (!session) return undefined;
    const user = this.credentials.findUser(session.user);
    // Removed, disabled, or given a new password (`vigil user passwd`): whoever was logged in must log in again.
    if (!user || user.disabled || passwordMark(user.password) !== session.password) {
      this.logout(id);
      return undefined;
    }
    return { principal: { kind: 'user', name: user.name, role: user.role }, session };
  }

  /**
   * Authenticates a request by its session cookie. State changes (anything but GET/HEAD/OPTIONS) must carry the
   * session's CSRF token in `X-CSRF-Token` (synchronizer token, OWASP CSRF Prevention Cheat Sheet), and a
   * cross-origin Origin header is refused outright.
   */
  authenticate(request: FastifyRequest): Principal | undefined {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const found = this.principalOf(id);
    if (!found) return undefined;
    if (!SAFE_METHODS.has(request.method)) {
      checkOrigin(request);
      const token = request.headers[CSRF_HEADER];
      if (typeof token !== 'string' || !equalSecrets(token, found.session.csrf)) {
        throw new VigilError('forbidden', 'missing or wrong CSRF token: reload the page and try again');
      }
    }
    return found.principal;
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(now: number): void {
    if (this.sessions.size < MAX_SESSIONS / 2) return;
    for (const [key, s] of this.sessions) {
      if (this.expired(s, now)) this.sessions.delete(key);
    }
    // Still full: the least recently used sessions go.
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = [...this.sessions].sort((a, b) => a[1].lastSeen - b[1].lastSeen).slice(0, this.sessions.size - MAX_SESSIONS + 1);
      for (const [key] of oldest) this.sessions.delete(key);
    }
  }
}

/** Refuses a request whose Origin (sent by browsers on every cross-origin and every POST request) is another site. */
export function checkOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const host = request.headers.host;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new VigilError('forbidden', 'cross-origin request refused');
  }
  if (origin === 'null' || originHost !== host) throw new VigilError('forbidden', 'cross-origin request refused');
}
