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
import { registerAlertRoutes } from './alerts/routes.js';
import { registerAuth } from './auth/hook.js';
import { registerBodies } from './body.js';
import { registerEsRoutes } from './es/routes.js';
import { registerEventRoutes } from './events/routes.js';
import { registerHealthRoutes, type HealthSource } from './health/routes.js';
import { registerIntelRoutes } from './intel/routes.js';
import type { Enrichment } from '../enrich/index.js';

export interface ApiDeps {
  pipeline: Pipeline;
  store: EventStore;
  credentials: Credentials;
  alerts: AlertManager;
  telemetry: Telemetry;
  clock: Clock;
  version: string;
  /** Largest request body, after decompression. */
  maxBodyBytes: number;
  /** Extra health sections (inputs, collectors). */
  health?: HealthSource[];
  tls?: { cert: string; key: string };
  /** GeoIP and threat intelligence, for `/api/v1/intel/*`. */
  enrichment?: Enrichment;
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

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.maxBodyBytes,
    // Behind no proxy by default: the peer address is the socket's.
    trustProxy: false,
    ...(deps.tls ? { https: { cert: readFileSync(deps.tls.cert), key: readFileSync(deps.tls.key) } } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

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

  registerAuth(app, deps.credentials);
  registerBodies(app);
  registerHealthRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerEsRoutes(app, deps);
  registerAlertRoutes(app, deps);
  if (deps.enrichment) registerIntelRoutes(app, { enrichment: deps.enrichment, store: deps.store });

  app.get('/api/v1/openapi.json', { config: { access: 'viewer' }, schema: { hide: true } }, async () => app.swagger());
  return app;
}
