// Health (the one open route) and Prometheus metrics: is Vigil up, is it keeping up, what did each stage count.
import type { FastifyInstance } from 'fastify';
import type { Telemetry } from '../../core/telemetry.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { EventStore } from '../../store/types.js';

/** A component that reports on itself in the health answer (an input, a collector). */
export interface HealthSource {
  name: string;
  status(): { ok: boolean; [key: string]: unknown };
}

export interface HealthDeps {
  pipeline: Pipeline;
  store: EventStore;
  telemetry: Telemetry;
  version: string;
  health?: HealthSource[];
}

/** How long after a failed store write health still says `down` (a write that works does not clear it sooner: writes of
 * different sizes may fail or not on a nearly full disk). */
const WRITE_FAILURE_MS = 30_000;

export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  const started = Date.now();

  app.get('/api/v1/health', { config: { access: 'public' }, schema: { summary: 'Liveness and a summary of each component; needs no credential.' } }, async (_request, reply) => {
    const components: Record<string, unknown> = {};
    const problems: string[] = [];
    let storeUp = true;
    let storeSection: Record<string, unknown>;
    try {
      const stats = await deps.store.stats();
      storeSection = { ok: true, engine: deps.store.engine, events: stats.events, bytes: stats.bytes };
    } catch (err) {
      storeUp = false;
      problems.push('store');
      storeSection = { ok: false, engine: deps.store.engine, error: (err as Error).message };
    }
    // Reads may work while writes fail (a full disk): a write refused lately makes the store down too.
    const failure = deps.pipeline.lastWriteFailure;
    if (storeUp && failure && Date.now() - failure.at < WRITE_FAILURE_MS) {
      storeUp = false;
      problems.push('store');
      storeSection = { ...storeSection, ok: false, write_error: failure.message, write_failed_at: new Date(failure.at).toISOString() };
    }
    for (const source of deps.health ?? []) {
      const status = source.status();
      components[source.name] = status;
      if (!status.ok) problems.push(source.name);
    }
    if (deps.pipeline.congested) problems.push('pipeline');
    const counters = await deps.telemetry.snapshot();
    const body = {
      // `down` (503) only when events cannot be stored; a failing collector or feed is `degraded`, named in `problems`.
      status: !storeUp ? 'down' : problems.length > 0 ? 'degraded' : 'ok',
      problems,
      version: deps.version,
      uptime_s: Math.round((Date.now() - started) / 1000),
      store: storeSection,
      pipeline: { queue_depth: deps.pipeline.queueDepth, congested: deps.pipeline.congested },
      components,
      counters,
    };
    if (!storeUp) void reply.code(503);
    return body;
  });

  app.get('/metrics', { config: { access: 'viewer' }, schema: { summary: 'Prometheus text exposition of every stage counter.' } }, async (_request, reply) => {
    const stats = await deps.store.stats().catch(() => undefined);
    let text = await deps.telemetry.metrics();
    if (stats) {
      text += `# HELP vigil_store_events Events in the store.\n# TYPE vigil_store_events gauge\nvigil_store_events ${stats.events}\n`;
      text += `# HELP vigil_store_bytes Size of the store on disk.\n# TYPE vigil_store_bytes gauge\nvigil_store_bytes ${stats.bytes}\n`;
      if (stats.memoryBytes !== undefined) text += `# HELP vigil_store_memory_bytes Memory the embedded store holds in this process (its buffer pool).\n# TYPE vigil_store_memory_bytes gauge\nvigil_store_memory_bytes ${stats.memoryBytes}\n`;
    }
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(text);
  });
}
