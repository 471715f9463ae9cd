// Authenticates every request (Bearer token, Elasticsearch-style ApiKey, or Basic) and checks the route's role.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError, isVigilError } from '../../core/errors.js';
import { isRole, roleAllows, type Credentials, type Principal, type Role } from './credentials.js';
import type { LoginGuard } from './lockout.js';

/** The role a route needs, or `public` for the one open route (health). */
export type RouteAccess = Role | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Successful Basic logins are remembered briefly, so a shipper sending every second does not pay scrypt each time. */
const BASIC_CACHE_MS = 60_000;

function decodeBase64(text: string): string | undefined {
  if (!/^[A-Za-z0-9+/=_-]{1,4096}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64').toString('utf8');
}

/** A second way in for browsers: the dashboard's session cookie (api/session/), which also checks CSRF. */
export interface CookieAuth {
  authenticate(request: FastifyRequest): Principal | undefined;
}

/**
 * A request the api role of a bus deployment authenticated and forwarded (bus/forward.ts): it arrives through
 * `inject` carrying this process's secret and the caller's identity, and is checked against the route like any other.
 */
export interface ForwardedAuth {
  secret: string;
  secretHeader: string;
  principalHeader: string;
}

function forwardedPrincipal(request: FastifyRequest, forwarded: ForwardedAuth): Principal | undefined {
  const given = request.headers[forwarded.secretHeader];
  if (typeof given !== 'string') return undefined;
  const a = Buffer.from(given);
  const b = Buffer.from(forwarded.secret);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
  try {
    const p = JSON.parse(String(request.headers[forwarded.principalHeader])) as Principal;
    if ((p.kind === 'user' || p.kind === 'token' || p.kind === 'env') && typeof p.name === 'string' && isRole(p.role)) return { kind: p.kind, name: p.name, role: p.role };
  } catch {
    // not a principal: unauthenticated
  }
  return undefined;
}

/** `guard`: the failed-login lockout, which HTTP Basic passwords go through as the dashboard's do. */
export function registerAuth(app: FastifyInstance, credentials: Credentials, cookieAuth?: CookieAuth, guard?: LoginGuard, forwarded?: ForwardedAuth): void {
  const basicCache = new Map<string, { principal: Principal; until: number }>();

  function checkBasic(user: string, password: string, address: string): Principal | undefined {
    if (!guard) return credentials.authenticatePassword(user, password);
    try {
      const found = guard.attempt(user, address, 'basic', () => credentials.checkPassword(user, password));
      return { kind: 'user', name: found.name, role: found.role as Role };
    } catch (err) {
      // A wrong password is the usual 401 with its challenge; a lock or a refused address answers for itself.
      if (isVigilError(err) && err.id === 'unauthorized') return undefined;
      throw err;
    }
  }

  function authenticate(request: FastifyRequest): Principal | undefined {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.length > 8192) return undefined;
    const space = header.indexOf(' ');
    if (space < 0) return undefined;
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'bearer') return credentials.authenticateToken(value);
    if (scheme === 'apikey') {
      // Filebeat, Logstash and the Elasticsearch clients send base64("id:key"); accept the raw token too.
      const direct = credentials.authenticateToken(value);
      if (direct) return direct;
      const decoded = decodeBase64(value);
      if (decoded === undefined) return undefined;
      const colon = decoded.indexOf(':');
      return credentials.authenticateToken(colon >= 0 ? decoded.slice(colon + 1) : decoded);
    }
    if (scheme === 'basic') {
      const decoded = decodeBase64(value);
      if (decoded === undefined) return undefined;
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      const user = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      const asToken = credentials.authenticateToken(password);
      if (asToken) return asToken;
      const key = createHash('sha256').update(decoded).digest('hex');
      const cached = basicCache.get(key);
      const now = Date.now();
      if (cached && cached.until > now) return cached.principal;
      const principal = checkBasic(user, password, request.ip);
      if (principal) {
        if (basicCache.size > 1000) basicCache.clear();
        basicCache.set(key, { principal, until: now + BASIC_CACHE_MS });
      }
      return principal;
    }
    return undefined;
  }

  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access;
    if (access === 'public') return;
    // An Authorization header wins; without one, the session cookie.
    const principal =
      (forwarded && request.headers[forwarded.secretHeader] !== undefined ? forwardedPrincipal(request, forwarded) : undefined) ??
      (request.headers.authorization === undefined && cookieAuth ? cookieAuth.authenticate(request) : authenticate(request));
    if (!principal) {
      void reply.header('WWW-Authenticate', 'Bearer realm="vigil"');
      throw new VigilError('unauthorized', 'authentication required: send "Authorization: Bearer <token>" (create one with `vigil token create`)');
    }
    request.principal = principal;
    if (request.is404) return; // any authenticated caller may learn that a route does not exist
    // A route without a declared role is for admins only.
    const required = access ?? 'admin';
    if (!roleAllows(principal.role, required)) {
      throw new VigilError('forbidden', `this needs the ${required} role; the credential "${principal.name}" has the ${principal.role} role`);
    }
  });
}
