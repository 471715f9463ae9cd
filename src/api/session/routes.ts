// /api/v1/session: log in with a user name and password (the `Credentials` users), learn who is logged in and the
// CSRF token, log out. The session id lives only in an HttpOnly cookie, out of reach of any script in the page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { VigilError } from '../../core/errors.js';
import { readJsonBody } from '../body.js';
import { checkOrigin, readCookie, SESSION_COOKIE, type SessionStore } from './sessions.js';
import { recordRequest } from '../audit.js';
import type { AuditSink } from '../../audit/trail.js';

export interface SessionRoutesDeps {
  sessions: SessionStore;
  audit?: AuditSink;
  /** Cookies get `Secure` when Vigil serves HTTPS. */
  secure: boolean;
}

const loginSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
});

function cookie(value: string, secure: boolean, maxAgeS?: number): string {
  // SameSite=Strict: the browser sends it on no cross-site request at all (RFC 6265bis §5.4.7).
  const parts = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (secure) parts.push('Secure');
  if (maxAgeS !== undefined) parts.push(`Max-Age=${maxAgeS}`);
  return parts.join('; ');
}

export function registerSessionRoutes(app: FastifyInstance, deps: SessionRoutesDeps): void {
  const { sessions, secure } = deps;

  const whoAmI = (request: FastifyRequest, reply: FastifyReply) => {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    const found = id === undefined ? undefined : sessions.principalOf(id);
    if (!found) {
      void reply.code(401);
      return new VigilError('unauthorized', 'not logged in').toJSON();
    }
    return { user: found.principal.name, role: found.principal.role, csrf: found.session.csrf };
  };

  app.post(
    '/api/v1/session',
    { config: { access: 'public' }, schema: { summary: 'Log in: `{username, password}`; sets the session cookie and answers `{user, role, csrf}`.' } },
    async (request, reply) => {
      // Login CSRF: a page on another site must not log the browser in as someone else.
      checkOrigin(request);
      const { username, password } = readJsonBody(request.body, loginSchema);
      const { id, session, principal } = sessions.login(username, password, request.ip);
      void reply.header('set-cookie', cookie(id, secure));
      return { user: principal.name, role: principal.role, csrf: session.csrf };
    },
  );

  app.get('/api/v1/session', { config: { access: 'public' }, schema: { summary: 'Who is logged in, with the CSRF token to send as X-CSRF-Token; 401 when nobody.' } }, async (request, reply) =>
    whoAmI(request, reply),
  );

  app.delete('/api/v1/session', { config: { access: 'viewer' }, schema: { summary: 'Log out (needs the X-CSRF-Token header).' } }, async (request, reply) => {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (id !== undefined) sessions.logout(id);
    recordRequest(deps.audit, request, { action: 'logout', category: 'authentication', type: ['end'], message: `${request.principal?.name ?? 'unknown'} logged out of the dashboard` });
    void reply.header('set-cookie', cookie('', secure, 0));
    return reply.code(204).send();
  });
}
