// /api/v1/models: the anomaly detectors with their versions, sample counts, thresholds, score histogram and drift;
// retraining on demand and rollback. Viewers read; analysts and admins retrain and roll back.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { VigilError } from '../../core/errors.js';
import type { ModelMeta } from '../../detect/ml/models/model.js';
import { isRawBody, readJsonBody } from '../body.js';
import { audited } from '../audit.js';
import type { AuditSink } from '../../audit/trail.js';

/** The models the routes manage: this process's (`Models`), or the analyze workers' in a bus deployment (bus/control.ts). */
export interface ModelAccess {
  list(): Record<string, unknown>[] | Promise<Record<string, unknown>[]>;
  get(id: string): Record<string, unknown> | Promise<Record<string, unknown>>;
  retrain(id: string): Promise<ModelMeta>;
  rollback(id: string, version?: number): ModelMeta | Promise<ModelMeta>;
}

export interface ModelRoutesDeps {
  models: ModelAccess;
  audit?: AuditSink;
}

const rollbackSchema = z.strictObject({ version: z.number().int().min(1).optional() });

export function registerModelRoutes(app: FastifyInstance, deps: ModelRoutesDeps): void {
  const { models } = deps;

  app.get('/api/v1/models', { config: { access: 'viewer' }, schema: { summary: 'Anomaly detectors: state, versions, samples, thresholds, score histogram, drift (PSI).' } }, async () => {
    const list = await models.list();
    return { total: list.length, models: list };
  });

  app.get<{ Params: { id: string } }>(
    '/api/v1/models/:id',
    { config: { access: 'viewer' }, schema: { summary: 'One anomaly detector, with its most recent anomalies.' } },
    async (request) => models.get(request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/models/:id/retrain',
    {
      config: { access: 'analyst' },
      schema: { summary: 'Train a new version now on the samples collected (409 when there are too few); it replaces the active one without pausing detection.' },
    },
    async (request) => {
      const id = request.params.id.slice(0, 200);
      const who = request.principal?.name ?? 'unknown';
      const meta = await audited(
        deps.audit,
        request,
        { action: 'model-retrained', category: 'configuration', type: ['change'], target: { kind: 'model', id }, message: `${who} retrained model ${id}` },
        () => models.retrain(request.params.id),
        (m) => ({ message: `${who} retrained model ${id}: version ${m.version} is active`, details: { version: m.version } }),
      );
      return { model: request.params.id, version: meta.version, created_at: meta.created_at, training: meta.training, thresholds: meta.thresholds };
    },
  );

  app.post<{ Params: { id: string }; Querystring: { version?: string } }>(
    '/api/v1/models/:id/rollback',
    {
      config: { access: 'analyst' },
      schema: {
        summary: 'Make an earlier version active again: `{"version": N}` (or ?version=N), else the one before the active version.',
        querystring: { type: 'object', properties: { version: { type: 'string' } } },
      },
    },
    async (request) => {
      let version: number | undefined;
      if (isRawBody(request.body) && request.body.text.trim() !== '') version = readJsonBody(request.body, rollbackSchema).version;
      if (version === undefined && request.query.version !== undefined) {
        version = Number(request.query.version);
        if (!Number.isInteger(version) || version < 1) throw new VigilError('bad_request', 'version must be a positive integer');
      }
      const id = request.params.id.slice(0, 200);
      const who = request.principal?.name ?? 'unknown';
      const meta = await audited(
        deps.audit,
        request,
        { action: 'model-rolled-back', category: 'configuration', type: ['change'], target: { kind: 'model', id }, message: `${who} rolled model ${id} back${version !== undefined ? ` to version ${version}` : ''}` },
        () => models.rollback(request.params.id, version),
        (m) => ({ message: `${who} rolled model ${id} back: version ${m.version} is active`, details: { version: m.version } }),
      );
      return { model: request.params.id, version: meta.version, created_at: meta.created_at, training: meta.training };
    },
  );
}
