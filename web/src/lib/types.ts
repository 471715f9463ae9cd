// The API's shapes as the page reads them. Alerts, incidents and hosts are the server's own types (type-only imports
// from src/core, erased by esbuild); the rest are the events routes' and the stream's answers.
import type { Alert as CoreAlert, AlertStatus, AuditEntry, Incident, Verdict } from '../../../src/core/alert.js';
import type { Severity } from '../../../src/core/detection.js';
import type { HostSummary } from '../../../src/core/host.js';

export type { AlertStatus, AuditEntry, HostSummary, Incident, Severity, Verdict };
/** Most severe first, as lists show them. */
export const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low', 'informational'];
export const STATUSES: AlertStatus[] = ['open', 'acknowledged', 'resolved'];
export const VERDICTS: Verdict[] = ['true_positive', 'false_positive', 'benign'];
/** Mirrors src/api/auth/credentials.ts (which needs Node's crypto, so it cannot be imported here). */
export type Role = 'ingest' | 'viewer' | 'analyst' | 'admin';

export interface Me {
  user: string;
  role: Role;
  csrf: string;
}

/**
 * An alert as lists and the stream carry it (notes and history only on GET /api/v1/alerts/:id, a count of notes
 * on the stream), and with its evidence events on its own page.
 */
export type Alert = Omit<CoreAlert, 'notes' | 'history'> & {
  notes?: CoreAlert['notes'];
  notes_count?: number;
  history?: CoreAlert['history'];
  evidence_events?: EcsDoc[];
};

/** An ECS document: nested objects, attacker-controlled values. */
export type EcsDoc = Record<string, unknown> & { '@timestamp': string; event?: { id?: string; dataset?: string; original?: string } };

export interface SearchResult {
  total: number;
  events: EcsDoc[];
  next: string | null;
}
/** GET /api/v1/events/histogram: HistogramResult in src/store/types.ts. */
export type { HistogramResult as Histogram } from '../../../src/store/types.js';
export interface Top {
  field: string;
  total: number;
  values: { value: string; count: number }[];
}

export interface RatesMessage {
  at: string;
  interval_ms: number;
  total: number;
  datasets: Record<string, number>;
  queue_depth: number;
}
export interface HealthMessage {
  at: string;
  queue_depth: number;
  congested: boolean;
  store: { events: number; bytes: number } | null;
  counters: Record<string, Record<string, number>>;
  stream: { clients: number; dropped_clients: number };
}
