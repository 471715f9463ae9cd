// The HTTP server of a bus deployment's api role (`vigil start --role api`, with a shared ClickHouse store): the
// dashboard, sign-in and the live stream; event search, histograms and top values read the store directly; events
// sent here go to the bus like the ingest role's; every other `/api/v1` route (alerts, incidents, suppressions,
// rules, models, hosts, intelligence) is answered by the store role, which owns that state (bus/forward.ts).
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../core/clock.js';
import type { Telemetry } from '../core/telemetry.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { EventStore } from '../store/types.js';
import type { AuditSink } from '../audit/trail.js';
import type { Bus } from '../bus/connection.js';
import { registerForwarding } from '../bus/forward.js';
import type { LiveFeed } from '../bus/live.js';
import type { Credentials } from './auth/credentials.js';
import { registerAuth } from './auth/hook.js';
import type { LoginGuard } from './auth/lockout.js';
import { registerBodies } from './body.js';
import { registerEsRoutes } from './es/routes.js';
import { registerEventRoutes } from './events/routes.js';
import { registerHealthRoutes, type HealthSource } from './health/routes.js';
import { createServer } from './server.js';
import { registerSessionRoutes } from './session/routes.js';
import { SessionStore } from './session/sessions.js';
import { registerStreamRoutes } from './stream/routes.js';
import { registerUiRoutes } from './ui/routes.js';

export interface ApiRoleDeps {
  bus: Bus;
  /** The pipeline whose sink is the bus: events POSTed here, and the audit trail's records. */
  pipeline: Pipeline;
  /** The shared store (ClickHouse), read only. */
  store: EventStore;
  /** Alert changes and stored-event rates relayed by the store role. */
  live: LiveFeed;
  credentials: Credentials;
  telemetry: Telemetry;
  clock: Clock;
  version: string;
  maxBodyBytes: number;
  health: HealthSource[];
  sessions: { idle_minutes: number; max_hours: number; file?: string };
  loginGuard?: LoginGuard;
  audit?: AuditSink;
  tls?: { cert: string; key: string };
}

export async function buildApiRoleApi(deps: ApiRoleDeps): Promise<FastifyInstance> {
  const app = await createServer(deps);
  const sessions = new SessionStore(deps.credentials, {
    idleMs: deps.sessions.idle_minutes * 60_000,
    maxAgeMs: deps.sessions.max_hours * 3_600_000,
    ...(deps.sessions.file ? { file: deps.sessions.file } : {}),
    ...(deps.loginGuard ? { guard: deps.loginGuard } : {}),
  });
  app.addHook('onClose', async () => sessions.close());
  registerAuth(app, deps.credentials, sessions, sessions.guard);
  registerBodies(app);
  registerHealthRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerEsRoutes(app, deps);
  registerSessionRoutes(app, { sessions, secure: deps.tls !== undefined, ...(deps.audit ? { audit: deps.audit } : {}) });
  // Events are stored by the store role: the rates come relayed from it, not from what passes through here.
  const pipeline = deps.pipeline;
  const quiet = {
    onStored: () => undefined,
    get queueDepth() {
      return pipeline.queueDepth;
    },
    get congested() {
      return pipeline.congested;
    },
  };
  const hub = registerStreamRoutes(app, { alerts: deps.live, pipeline: quiet, store: deps.store, telemetry: deps.telemetry, credentials: deps.credentials, sessions, version: deps.version });
  deps.live.attach(hub);
  registerUiRoutes(app);
  registerForwarding(app, deps.bus);
  app.get('/api/v1/openapi.json', { config: { access: 'viewer' }, schema: { hide: true } }, async () => app.swagger());
  return app;
}
