// Browser sessions for the dashboard: an opaque id in an HttpOnly, SameSite=Strict cookie, a CSRF token per session
// (sent back in a header on every state change), idle and absolute expiry, and a brake on password guessing.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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
  /** Failed-login lockout (shared with HTTP Basic); default: the default policy, in memory. */
  guard?: LoginGuard;
}

export interface Session {
  user: string;
  csrf: string;
  created: number;
  lastSeen: number;
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

function equalSecrets(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

export class SessionStore {
  /** Keyed by the SHA-256 of the cookie value, so a heap dump does not hold usable session ids. */
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;
  readonly guard: LoginGuard;

  constructor(
    private readonly credentials: Credentials,
    private readonly options: SessionOptions,
  ) {
    this.now = options.now ?? Date.now;
    const now = this.now;
    this.guard = options.guard ?? new LoginGuard({ policy: DEFAULT_LOCKOUT, clock: { now } });
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
    const session: Session = { user: principal.name, csrf: randomBytes(24).toString('base64url'), created: now, lastSeen: now };
    this.sessions.set(SessionStore.key(id), session);
    return { id, session, principal };
  }

  logout(id: string): void {
    this.sessions.delete(SessionStore.key(id));
  }

  /** The live session a cookie value names, refreshed; undefined when unknown or expired. */
  get(id: string): Session | undefined {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(id)) return undefined;
    const key = SessionStore.key(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    const now = this.now();
    if (now - session.lastSeen > this.options.idleMs || now - session.created > this.options.maxAgeMs) {
      this.sessions.delete(key);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  /** The user behind a session, as the credentials file has them now: a removed or disabled user's session ends. */
  principalOf(id: string): { principal: Principal; session: Session } | undefined {
    const session = this.get(id);
    if (!session) return undefined;
    const user = this.credentials.findUser(session.user);
    if (!user || user.disabled) {
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
      if (now - s.lastSeen > this.options.idleMs || now - s.created > this.options.maxAgeMs) this.sessions.delete(key);
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
