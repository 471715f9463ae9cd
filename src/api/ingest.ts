// The HTTP server of a bus deployment's ingest role: the ways in (POST /api/v1/events, which agents ship to, and the
// Elasticsearch `_bulk` API), health and metrics; no search or dashboard, which the api role serves from the store.
import type { FastifyInstance } from 'fastify';
import type { Telemetry } from '../core/telemetry.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { Credentials } from './auth/credentials.js';
import { registerAuth } from './auth/hook.js';
import { registerBodies } from './body.js';
import { registerEsRoutes } from './es/routes.js';
import { registerEventIngestRoute } from './events/routes.js';
import type { HealthSource } from './health/routes.js';
import { registerRateLimits, type HttpRateLimits } from './rate-limit.js';
import { createServer } from './server.js';

export interface IngestApiDeps {
  /** The pipeline whose sink is the bus. */
  pipeline: Pipeline;
  credentials: Credentials;
  telemetry: Telemetry;
  version: string;
  maxBodyBytes: number;
  /** The bus connection and the inputs; the bus is the "store" here: down means events cannot be taken. */
  health: HealthSource[];
  tls?: { cert: string; key: string };
  /** Per-client rate limits (api/rate-limit.ts); none when absent. */
  rateLimits?: HttpRateLimits;
}

export async function buildIngestApi(deps: IngestApiDeps): Promise<FastifyInstance> {
  const app = await createServer(deps);
  if (deps.rateLimits) registerRateLimits(app, deps.rateLimits, deps.telemetry);
  // Tokens only: there is no dashboard to sign in to here.
  registerAuth(app, deps.credentials);
  registerBodies(app);
  registerEventIngestRoute(app, deps);
  registerEsRoutes(app, deps);
  const started = Date.now();
  app.get('/api/v1/health', { config: { access: 'public' }, schema: { summary: 'Liveness of the ingest role: the bus, the inputs, the queue.' } }, async (_request, reply) => {
    const components: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const source of deps.health) {
      const status = source.status();
      components[source.name] = status;
      if (!status.ok) problems.push(source.name);
    }
    if (deps.pipeline.congested) problems.push('pipeline');
    const busDown = problems.includes('bus');
    if (busDown) void reply.code(503);
    return {
      status: busDown ? 'down' : problems.length > 0 ? 'degraded' : 'ok',
      role: 'ingest',
      problems,
      version: deps.version,
      uptime_s: Math.round((Date.now() - started) / 1000),
      pipeline: { queue_depth: deps.pipeline.queueDepth, congested: deps.pipeline.congested },
      components,
      counters: await deps.telemetry.snapshot(),
    };
  });
  app.get('/metrics', { config: { access: 'viewer' }, schema: { summary: 'Prometheus text exposition of every stage counter.' } }, async (_request, reply) => {
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(await deps.telemetry.metrics());
  });
  app.get('/api/v1/openapi.json', { config: { access: 'viewer' }, schema: { hide: true } }, async () => app.swagger());
  return app;
}
