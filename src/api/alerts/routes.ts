// Alerts for triage: list with filters, one alert with its evidence events, analysts' changes (audited), bulk
// acknowledge/resolve, and suppression rules. Viewers read; analysts change.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ALERT_STATUSES, VERDICTS, type AlertStatus, type Verdict } from '../../core/alert.js';
import { SEVERITIES, type Severity } from '../../core/detection.js';
import { VigilError } from '../../core/errors.js';
import type { AlertFilter, AlertManager, AlertPatch } from '../../alerts/manager.js';
import type { SuppressionInput } from '../../alerts/suppression.js';
import type { EventStore } from '../../store/types.js';
import { readJsonBody } from '../body.js';
import type { Clock } from '../../core/clock.js';
import { recordRequest, type RequestAction } from '../audit.js';
import type { AuditSink } from '../../audit/trail.js';
import type { Alert, AuditEntry } from '../../core/alert.js';
import { defined, integer, list, range } from './query.js';

export interface AlertRoutesDeps {
  alerts: AlertManager;
  store: EventStore;
  /** For relative `from`/`to` (now-24h); the system clock when absent. */
  clock?: Clock;
  audit?: AuditSink;
}

/** The changes an update added to an item's history, as audit details and a sentence. */
export function describeChanges(entries: readonly AuditEntry[]): { details: Record<string, unknown>; text: string } {
  const changes = entries.map((e) => (e.action === 'note' ? { field: 'note', note: (e.note ?? '').slice(0, 500) } : { field: e.action, from: e.from ?? null, to: e.to ?? null }));
  const text = entries.map((e) => (e.action === 'note' ? 'added a note' : `${e.action} ${e.from ?? 'none'} → ${e.to ?? 'none'}`)).join(', ');
  return { details: { changes }, text };
}

function alertAction(alert: Alert, entries: readonly AuditEntry[], who: string): RequestAction {
  const { details, text } = describeChanges(entries);
  return {
    action: 'alert-updated',
    category: 'configuration',
    type: ['change'],
    target: { kind: 'alert', id: alert.id, name: alert.rule.title },
    message: `${who} updated alert "${alert.rule.title}" (${alert.id}): ${text}`,
    details,
  };
}

const patchSchema = z.strictObject({
  status: z.enum(ALERT_STATUSES as [AlertStatus, ...AlertStatus[]]).optional(),
  verdict: z.enum(VERDICTS as [Verdict, ...Verdict[]]).nullable().optional(),
  assignee: z.string().min(1).max(200).nullable().optional(),
  note: z.string().min(1).max(10_000).optional(),
});
const bulkSchema = patchSchema.extend({ ids: z.array(z.string().max(100)).min(1).max(1000) });
const suppressionSchema = z.strictObject({
  rule: z.string().optional(),
  entity: z.string().optional(),
  field: z.string().optional(),
  value: z.string().optional(),
  until: z.string().optional(),
  reason: z.string().optional(),
});


type AlertQuery = { status?: string; severity?: string; rule?: string; entity?: string; min_confidence?: string; from?: string; to?: string; limit?: string; offset?: string };

export function registerAlertRoutes(app: FastifyInstance, deps: AlertRoutesDeps): void {
  const { alerts, store } = deps;

  app.get<{ Querystring: AlertQuery }>(
    '/api/v1/alerts',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Alerts, newest activity first, filtered by status, severity, rule, entity and confidence.',
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', description: 'Comma-separated: open, acknowledged, resolved.' },
            severity: { type: 'string', description: 'Comma-separated: informational, low, medium, high, critical.' },
            rule: { type: 'string', description: 'A rule or model id or title.' },
            entity: { type: 'string', description: 'An IP, user or host the alert is about.' },
            min_confidence: { type: 'string', description: 'Between 0 and 1.' },
            from: { type: 'string', description: 'Only alerts active since (last seen at or after): ISO 8601, epoch ms or now-24h.' },
            to: { type: 'string', description: 'Only alerts active before (first seen before).' },
            limit: { type: 'string' },
            offset: { type: 'string' },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const filter: AlertFilter = { limit: integer(q.limit, 'limit', 100, 1000), offset: integer(q.offset, 'offset', 0, 10_000_000), ...range(q, deps.clock?.now() ?? Date.now()) };
      const status = list<AlertStatus>(q.status, ALERT_STATUSES, 'status');
      const severity = list<Severity>(q.severity, SEVERITIES, 'severity');
      if (status) filter.status = status;
      if (severity) filter.severity = severity;
      if (q.rule) filter.rule = q.rule;
      if (q.entity) filter.entity = q.entity;
      if (q.min_confidence !== undefined) {
        const c = Number(q.min_confidence);
        if (!(c >= 0 && c <= 1)) throw new VigilError('bad_request', 'min_confidence must be between 0 and 1');
        filter.min_confidence = c;
      }
      return alerts.list(filter);
    },
  );

  app.patch(
    '/api/v1/alerts',
    { config: { access: 'analyst' }, schema: { summary: 'Bulk change: `{ids: [...], status|verdict|assignee|note}` on several alerts.' } },
    async (request) => {
      const { ids, ...patch } = defined(readJsonBody(request.body, bulkSchema));
      const by = request.principal?.name ?? 'unknown';
      for (const id of ids) alerts.get(id); // all exist, or nothing changes
      const actions: RequestAction[] = [];
      const updated = ids.map((id) => {
        const before = alerts.get(id).history.length;
        const alert = alerts.update(id, patch as AlertPatch, by);
        if (alert.history.length > before) actions.push(alertAction(alert, alert.history.slice(before), by));
        return alert.id;
      });
      recordRequest(deps.audit, request, ...actions);
      return { updated };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/alerts/:id',
    { config: { access: 'viewer' }, schema: { summary: 'One alert with its evidence events and audit trail.' } },
    async (request) => {
      const alert = alerts.get(request.params.id);
      const query = { type: 'or' as const, children: alert.evidence.map((id) => ({ type: 'term' as const, field: 'event.id', value: id, phrase: false, wildcard: false })) };
      const evidence = alert.evidence.length === 0 ? [] : (await store.search({ query, limit: alert.evidence.length })).events;
      return { ...alert, evidence_events: evidence.reverse() };
    },
  );

  app.patch<{ Params: { id: string } }>(
    '/api/v1/alerts/:id',
    { config: { access: 'analyst' }, schema: { summary: 'Change `status`, `verdict`, `assignee`, or add a `note`; every change is audited.' } },
    async (request) => {
      const patch = defined(readJsonBody(request.body, patchSchema)) as AlertPatch;
      const by = request.principal?.name ?? 'unknown';
      const before = alerts.get(request.params.id).history.length;
      const alert = alerts.update(request.params.id, patch, by);
      if (alert.history.length > before) recordRequest(deps.audit, request, alertAction(alert, alert.history.slice(before), by));
      return alert;
    },
  );

  app.get('/api/v1/suppressions', { config: { access: 'viewer' }, schema: { summary: 'Suppression rules.' } }, async () => ({ suppressions: alerts.listSuppressions() }));

  app.post(
    '/api/v1/suppressions',
    {
      config: { access: 'analyst' },
      schema: { summary: 'Silence detections by `rule`, `entity`, `field`+`value`, `until` a time (they are still recorded as events).' },
    },
    async (request, reply) => {
      const input = defined(readJsonBody(request.body, suppressionSchema)) as SuppressionInput;
      const suppression = alerts.addSuppression(input, request.principal?.name ?? 'unknown');
      const what = (['rule', 'entity', 'field', 'value', 'until'] as const).filter((k) => suppression[k] !== undefined).map((k) => `${k} ${String(suppression[k])}`).join(', ');
      recordRequest(deps.audit, request, {
        action: 'suppression-created',
        category: 'configuration',
        type: ['creation'],
        target: { kind: 'suppression', id: suppression.id },
        message: `${suppression.created_by} added a suppression (${what})`,
        details: { suppression: { ...suppression } },
      });
      return reply.code(201).send(suppression);
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/suppressions/:id', { config: { access: 'analyst' }, schema: { summary: 'Remove a suppression rule.' } }, async (request, reply) => {
    const removed = alerts.listSuppressions().find((x) => x.id === request.params.id);
    alerts.removeSuppression(request.params.id);
    recordRequest(deps.audit, request, {
      action: 'suppression-removed',
      category: 'configuration',
      type: ['deletion'],
      target: { kind: 'suppression', id: request.params.id },
      message: `${request.principal?.name ?? 'unknown'} removed suppression ${request.params.id}`,
      ...(removed ? { details: { suppression: { ...removed } } } : {}),
    });
    return reply.code(204).send();
  });
}
