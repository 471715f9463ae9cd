// Incidents for triage: list, one incident with its alerts, and analysts' changes (audited).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ALERT_STATUSES, type AlertStatus } from '../../core/alert.js';
import { SEVERITIES, type Severity } from '../../core/detection.js';
import type { AlertManager } from '../../alerts/manager.js';
import type { IncidentTracker } from '../../alerts/incidents.js';
import { readJsonBody } from '../body.js';
import type { Clock } from '../../core/clock.js';
import { defined, integer, list, range } from './query.js';
import { recordRequest } from '../audit.js';
import type { AuditSink } from '../../audit/trail.js';
import { describeChanges } from './routes.js';

const patchSchema = z.strictObject({
  status: z.enum(ALERT_STATUSES as [AlertStatus, ...AlertStatus[]]).optional(),
  assignee: z.string().min(1).max(200).nullable().optional(),
  note: z.string().min(1).max(10_000).optional(),
});

export function registerIncidentRoutes(app: FastifyInstance, deps: { alerts: AlertManager; incidents: IncidentTracker; clock?: Clock; audit?: AuditSink }): void {
  const { alerts, incidents } = deps;

  app.get<{ Querystring: { status?: string; severity?: string; from?: string; to?: string; limit?: string; offset?: string } }>(
    '/api/v1/incidents',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Incidents (alerts sharing an entity), newest activity first.',
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string' },
            severity: { type: 'string' },
            from: { type: 'string', description: 'Only incidents active since: ISO 8601, epoch ms or now-24h.' },
            to: { type: 'string', description: 'Only incidents active before.' },
            limit: { type: 'string' },
            offset: { type: 'string' },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const status = list<AlertStatus>(q.status, ALERT_STATUSES, 'status');
      const severity = list<Severity>(q.severity, SEVERITIES, 'severity');
      return incidents.list({
        limit: integer(q.limit, 'limit', 100, 1000),
        offset: integer(q.offset, 'offset', 0, 10_000_000),
        ...(status ? { status } : {}),
        ...(severity ? { severity } : {}),
        ...range(q, deps.clock?.now() ?? Date.now()),
      });
    },
  );

  app.get<{ Params: { id: string } }>('/api/v1/incidents/:id', { config: { access: 'viewer' }, schema: { summary: 'One incident with its alerts and timeline.' } }, async (request) => {
    const incident = incidents.get(request.params.id);
    const members = incident.alerts.flatMap((id) => {
      try {
        return [alerts.get(id)];
      } catch {
        return []; // evicted
      }
    });
    return { ...incident, alert_details: members };
  });

  app.patch<{ Params: { id: string } }>(
    '/api/v1/incidents/:id',
    { config: { access: 'analyst' }, schema: { summary: 'Change `status` or `assignee`, or add a `note`; audited.' } },
    async (request) => {
      const patch = defined(readJsonBody(request.body, patchSchema));
      const by = request.principal?.name ?? 'unknown';
      const before = incidents.get(request.params.id).history.length;
      const incident = incidents.update(request.params.id, patch, by);
      if (incident.history.length > before) {
        const { details, text } = describeChanges(incident.history.slice(before));
        recordRequest(deps.audit, request, {
          action: 'incident-updated',
          category: 'configuration',
          type: ['change'],
          target: { kind: 'incident', id: incident.id, name: incident.title },
          message: `${by} updated incident "${incident.title}" (${incident.id}): ${text}`,
          details,
        });
      }
      return incident;
    },
  );
}
