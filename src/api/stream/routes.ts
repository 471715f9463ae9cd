// GET /api/v1/stream: server-sent events for the dashboard (and any client): alerts, rates, anomalies, health.
import type { FastifyInstance } from 'fastify';
import type { Credentials } from '../auth/credentials.js';
import { readCookie, SESSION_COOKIE, type SessionStore } from '../session/sessions.js';
import { StreamHub, type StreamHubOptions } from './hub.js';

export interface StreamRoutesDeps extends StreamHubOptions {
  credentials: Credentials;
  sessions: SessionStore;
  version: string;
}

export function registerStreamRoutes(app: FastifyInstance, deps: StreamRoutesDeps): StreamHub {
  const hub = new StreamHub(deps);
  // Open streams would hold the server open: end them before it stops listening.
  app.addHook('preClose', async () => hub.close());

  app.get(
    '/api/v1/stream',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Live server-sent events: `alert` (created/updated), `rates` (events per dataset each second), `anomaly`, `health`, `resync`.',
        produces: ['text/event-stream'],
      },
    },
    async (request, reply) => {
      // The stream ends when the credential that opened it stops being valid (logout, expiry, revoked token).
      const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
      const auth = request.headers.authorization;
      const bearer = typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
      const stillAllowed = () =>
        auth === undefined && cookie !== undefined ? deps.sessions.principalOf(cookie) !== undefined : bearer === undefined || deps.credentials.authenticateToken(bearer) !== undefined;
      const lastHeader = request.headers['last-event-id'];
      const lastId = typeof lastHeader === 'string' && /^\d{1,15}$/.test(lastHeader) ? Number(lastHeader) : undefined;

      reply.hijack();
      const res = reply.raw;
      if (hub.clientCount >= (deps.maxClients ?? 200)) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
        res.end(JSON.stringify({ error: { id: 'unavailable', message: 'too many live clients: retry later' } }));
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      });
      res.socket?.setNoDelay(true);
      const principal = request.principal!;
      hub.add(res, { stillAllowed }, lastId, { user: principal.name, role: principal.role, version: deps.version, server_time: new Date().toISOString() });
    },
  );
  return hub;
}
