// What an audit record is, and its ECS form: an event of dataset `vigil.audit` that is stored, searched and exported
// like any other. Records are made only by Vigil itself (the server and the `vigil` command); a sender's document
// that claims a `vigil.*` dataset is renamed on the way in (pipeline/normalize.ts).
import { createHash, randomUUID } from 'node:crypto';
import { formatIp, parseIp } from '../core/ip.js';

export const AUDIT_DATASET = 'vigil.audit';

/** Who acted: a dashboard user, an API token, the environment's admin token, the `vigil` command, or Vigil itself. */
export interface AuditActor {
  name: string;
  kind: 'user' | 'token' | 'env' | 'cli' | 'system' | 'anonymous';
  role?: string;
}

/**
 * ECS categories used (https://www.elastic.co/guide/en/ecs/current/ecs-allowed-values-event-category.html):
 * `authentication` for logins and lockouts, `iam` for users and tokens, `configuration` for rules, models,
 * suppressions, feeds, triage and the server's own configuration.
 */
export type AuditCategory = 'authentication' | 'iam' | 'configuration';

export interface AuditRecord {
  /** A stable kebab-case verb: `login`, `login-failed`, `account-locked`, `user-created`, `rule-disabled` … */
  action: string;
  category: AuditCategory;
  /** ECS `event.type` values allowed with the category: `start`, `end`, `info`, `creation`, `deletion`, `change`, `user`, `admin` … */
  type: string[];
  outcome: 'success' | 'failure';
  actor: AuditActor;
  /** How the action came in. */
  via: 'dashboard' | 'api' | 'cli' | 'server';
  /** The client's address, when it came over the network. */
  sourceIp?: string;
  /** What was acted on. */
  target?: { kind: string; id: string; name?: string };
  /** A short bounded reason (`wrong_password`, `account_locked` …). */
  reason?: string;
  /** One sentence for people. */
  message: string;
  /** What changed or what was decided, small JSON values only. */
  details?: Record<string, unknown>;
}

/** The address as ECS wants it (canonical text; IPv4-mapped IPv6 as dotted quad), or undefined when it is none. */
function ecsIp(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const value = parseIp(text);
  return value === undefined ? undefined : formatIp(value);
}

/** The ECS document of a record, with its own `event.id` so that shipping it twice stores it once. */
export function auditEvent(record: AuditRecord, now: number, id: string = randomUUID()): Record<string, unknown> {
  const ip = ecsIp(record.sourceIp);
  const relatedUsers = [record.actor.name];
  if (record.target?.kind === 'user' && record.target.id !== record.actor.name) relatedUsers.push(record.target.id);
  const user: Record<string, unknown> = { name: record.actor.name };
  if (record.actor.role !== undefined) user.roles = [record.actor.role];
  if (record.target?.kind === 'user') user.target = { name: record.target.id };
  return {
    '@timestamp': new Date(now).toISOString(),
    event: {
      id,
      kind: 'event',
      module: 'vigil',
      dataset: AUDIT_DATASET,
      category: [record.category],
      type: record.type,
      action: record.action,
      outcome: record.outcome,
      ...(record.reason !== undefined ? { reason: record.reason } : {}),
    },
    message: record.message,
    user,
    ...(ip !== undefined ? { source: { ip } } : {}),
    related: { user: relatedUsers, ...(ip !== undefined ? { ip: [ip] } : {}) },
    vigil: {
      audit: {
        actor: { ...record.actor },
        via: record.via,
        ...(record.target ? { target: { ...record.target } } : {}),
        ...(record.details ? { details: record.details } : {}),
      },
    },
  };
}

/** SHA-256 of the effective configuration, so the trail shows when it changed between starts without showing it. */
export function configDigest(config: unknown): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}
