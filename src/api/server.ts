// The HTTP server: one Fastify instance, one error handler, security headers, auth on every route but health.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import swagger from '@fastify/swagger';
import type { Clock } from '../core/clock.js';
import { VigilError, isVigilError } from '../core/errors.js';
import type { Telemetry } from '../core/telemetry.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { EventStore } from '../store/types.js';
import type { Credentials } from './auth/credentials.js';
import type { AlertManager } from '../alerts/manager.js';
import type { IncidentTracker } from '../alerts/incidents.js';
import { registerIncidentRoutes } from './alerts/incidents.js';
import { registerRuleRoutes, type RuleRoutesDeps } from './rules/routes.js';
import { registerAlertRoutes } from './alerts/routes.js';
import { registerAuth, type ForwardedAuth, type RouteAccess } from './auth/hook.js';
import { registerBodies } from './body.js';
import { registerRateLimits, type HttpRateLimits } from './rate-limit.js';
import { registerEsRoutes } from './es/routes.js';
import { registerEventRoutes } from './events/routes.js';
import { registerHealthRoutes, type HealthSource } from './health/routes.js';
import { SessionStore } from './session/sessions.js';
import { registerSessionRoutes } from './session/routes.js';
import { registerStreamRoutes } from './stream/routes.js';
import { registerUiRoutes } from './ui/routes.js';
import { registerModelRoutes, type ModelAccess } from './models/routes.js';
import type { HostRegistry } from './hosts/registry.js';
import { registerHostRoutes } from './hosts/routes.js';
import { registerIntelRoutes } from './intel/routes.js';
import type { Enrichment } from '../enrich/index.js';
import type { LoginGuard } from './auth/lockout.js';
import type { AuditSink } from '../audit/trail.js';

export interface ApiDeps extends RuleRoutesDeps {
  pipeline: Pipeline;
  /** Where POSTed events go when not to `pipeline`: the bus, in a bus deployment's store and api roles. */
  ingest?: Pipeline;
  store: EventStore;
  credentials: Credentials;
  alerts: AlertManager;
  incidents: IncidentTracker;
  telemetry: Telemetry;
  clock: Clock;
  version: string;
  /** Largest request body, after decompression. */
  maxBodyBytes: number;
  /** Extra health sections (inputs, collectors). */
  health?: HealthSource[];
  /** Anomaly detectors, for /api/v1/models (this process's, or the analyze workers' in a bus deployment). */
  models?: ModelAccess;
  tls?: { cert: string; key: string };
  /** Dashboard sessions: idle and absolute lifetimes, and the file that keeps them across restarts. */
  sessions?: { idle_minutes: number; max_hours: number; file?: string };
  /** Per-host health (GET /api/v1/hosts). */
  hosts?: HostRegistry;
  /** GeoIP and threat intelligence, for `/api/v1/intel/*`. */
  enrichment?: Enrichment;
  /** Failed-login lockout for the dashboard and HTTP Basic; default: the default policy, in memory. */
  loginGuard?: LoginGuard;
  /** Where administrative and analyst actions are recorded (src/audit/). */
  audit?: AuditSink;
  /** Requests the api role of a bus deployment forwards here, already authenticated (bus/forward.ts). */
  forwarded?: ForwardedAuth;
  /** Per-client rate limits (api/rate-limit.ts); none when absent. */
  rateLimits?: HttpRateLimits;
}

/** Every route with the role it needs: what the role matrix test walks, and what the API documents. */
export interface RouteEntry {
  method: string;
  url: string;
  access: RouteAccess;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteEntry[];
  }
}

/** Maps Fastify's own errors to Vigil's, so every failure has the same `{ error: { id, message } }` shape. */
function toVigilError(err: FastifyError): VigilError {
  if (isVigilError(err)) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new VigilError('too_large', 'the request body is over the limit: send smaller batches');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new VigilError('unsupported_media_type', 'unsupported Content-Type: send application/json, application/x-ndjson or text/plain');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new VigilError('bad_request', err.message);
    default:
      break;
  }
  if (err.validation) return new VigilError('bad_request', err.message);
  if (err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR') return new VigilError('bad_request', 'the compressed body is corrupt');
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) return new VigilError('bad_request', err.message);
  return new VigilError('internal', 'internal error', { cause: err });
}

/** The server every role's API starts from: route table, OpenAPI, one error shape, security headers. */
export async function createServer(deps: Pick<ApiDeps, 'maxBodyBytes' | 'tls' | 'version'>): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.maxBodyBytes,
    // Behind no proxy by default: the peer address is the socket's.
    trustProxy: false,
    ...(deps.tls ? { https: { cert: readFileSync(deps.tls.cert), key: readFileSync(deps.tls.key) } } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    // A route without a declared role is for admins only (auth/hook.ts).
    const access = (route.config as { access?: RouteAccess } | undefined)?.access ?? 'admin';
    for (const method of [route.method].flat()) if (method !== 'HEAD') routeTable.push({ method, url: route.url, access });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Vigil API', version: deps.version, description: 'Ingest, search and manage Vigil. Authenticate with `Authorization: Bearer <token>`.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const error = toVigilError(err);
    if (error.id === 'internal') console.error(`vigil: ${request.method} ${request.url.slice(0, 200)} failed:`, err);
    if (error.retryAfter !== undefined) void reply.header('Retry-After', String(error.retryAfter));
    void reply.code(error.status).send(error.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(new VigilError('not_found', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`).toJSON());
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('X-Content-Type-Options', 'nosniff');
    void reply.header('X-Frame-Options', 'DENY');
    void reply.header('Referrer-Policy', 'no-referrer');
    void reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    if (!reply.hasHeader('Content-Security-Policy')) void reply.header('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    if (!reply.hasHeader('Cache-Control')) void reply.header('Cache-Control', 'no-store');
    return payload;
  });
  return app;
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = await createServer(deps);
  const sessions = new SessionStore(deps.credentials, {
    idleMs: (deps.sessions?.idle_minutes ?? 720) * 60_000,
    maxAgeMs: (deps.sessions?.max_hours ?? 168) * 3_600_000,
    ...(deps.sessions?.file ? { file: deps.sessions.file } : {}),
    ...(deps.loginGuard ? { guard: deps.loginGuard } : {}),
  });
  app.addHook('onClose', async () => sessions.close());
  if (deps.rateLimits) registerRateLimits(app, deps.rateLimits, deps.telemetry);
  registerAuth(app, deps.credentials, sessions, sessions.guard, deps.forwarded);
  registerBodies(app);
  registerHealthRoutes(app, deps);
  registerEventRoutes(app, { ...deps, pipeline: deps.ingest ?? deps.pipeline });
  registerEsRoutes(app, { pipeline: deps.ingest ?? deps.pipeline });
  registerAlertRoutes(app, deps);
  registerIncidentRoutes(app, deps);
  registerRuleRoutes(app, deps);
  registerSessionRoutes(app, { sessions, secure: deps.tls !== undefined, ...(deps.audit ? { audit: deps.audit } : {}) });
  registerStreamRoutes(app, { ...deps, sessions });
  registerUiRoutes(app);
  if (deps.models) registerModelRoutes(app, { models: deps.models, ...(deps.audit ? { audit: deps.audit } : {}) });
  registerHostRoutes(app, deps);
  if (deps.enrichment) registerIntelRoutes(app, { enrichment: deps.enrichment, store: deps.store, ...(deps.audit ? { audit: deps.audit } : {}) });

  app.get('/api/v1/openapi.json', { config: { access: 'viewer' }, schema: { hide: true } }, async () => app.swagger());
  return app;
}
